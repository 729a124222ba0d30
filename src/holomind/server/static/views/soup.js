// The primordial soup: run it as a job, watch high-order entropy climb toward the transition,
// see the soup itself (a pixel row per program) and the programs that copy themselves.
import { fill, fmt, formValues, h, schemaForm, stats, throttle } from "../dom.js";
import { lineChart } from "../plot.js";

let context, schema, form, startButton, stopButton, stateEl, entropyCanvas, diversityCanvas, image, programs;
let set = {};
let jobId = null;
let rows = [];

const ACTIVE = ["starting", "running", "stopping"];

function draw() {
  lineChart(entropyCanvas, [{ name: "high-order entropy", points: rows.map((r) => [r.epoch, r.higher_entropy]) }],
    { xLabel: "epoch", yLabel: "bits / byte", threshold: 3.0, zero: true, empty: "start a soup to see its entropy" });
  const series = [{ name: "diversity", points: rows.map((r) => [r.epoch, r.diversity]) }];
  if (rows.some((r) => r.replicators !== null && r.replicators !== undefined)) {
    const n = Math.max(1, ...rows.map((r) => r.replicators || 0));
    series.push({ name: `replicators (÷ ${fmt(n)})`, points: rows.map((r) => [r.epoch, (r.replicators || 0) / n]) });
  }
  lineChart(diversityCanvas, series, { xLabel: "epoch", yLabel: "share", zero: true, empty: "no rows yet" });
}

const load = () => context.act(async () => {
  const data = await context.api(`/api/soup?since=${rows.length}`);
  const job = data.job;
  if (job && job.id !== jobId) { jobId = job.id; rows = []; return load(); }
  rows = rows.concat(data.rows);
  const state = job ? job.state : "no soup yet";
  fill(stateEl, h("span", { class: `chip ${state}` }, job ? `soup #${job.id}: ${state}` : state),
    job && job.error ? h("span", { class: "bad" }, ` ${job.error}`) : "");
  startButton.disabled = Boolean(job && ACTIVE.includes(job.state));
  stopButton.disabled = !(job && job.state === "running");
  const last = rows[rows.length - 1];
  if (last) {
    set.epoch(fmt(last.epoch)); set.entropy(fmt(last.higher_entropy, 4));
    set.diversity(fmt(last.diversity, 3)); set.replicators(fmt(last.replicators));
    set.ops(fmt(last.ops_per_interaction, 3));
    image.hidden = false;
    image.src = `/api/soup/image.png?rows=512&v=${job.id}-${last.epoch}`;
  }
  fill(programs, data.most_common.map((p) => h("tr", {}, h("td", {}, fmt(p.count)), h("td", {}, p.program))));
  draw();
});
const refresh = throttle(load, 1500);

async function start(event) {
  event.preventDefault();
  const job = await context.act(() => context.api("/api/soup/start", { method: "POST", body: formValues(form, schema) }));
  if (job) { jobId = job.id; rows = []; refresh(); }
}

export default {
  id: "soup",
  title: "Soup",
  order: 50,
  keys: ["soup/", "server/jobs"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["epoch", "entropy", "diversity", "replicators", "ops"],
      { entropy: "high-order entropy", ops: "ops / interaction" });
    stateEl = h("div", { id: "soup-state" });
    entropyCanvas = h("canvas", { class: "plot", id: "soup-entropy" });
    diversityCanvas = h("canvas", { class: "plot", id: "soup-diversity" });
    image = h("img", { alt: "the soup: a row per program", id: "soup-image", hidden: true });
    programs = h("tbody");
    startButton = h("button", { class: "primary", id: "soup-start", type: "submit" }, "Start a soup");
    stopButton = h("button", { id: "soup-stop", type: "button", disabled: true,
      onclick: () => context.act(async () => { await context.api(`/api/jobs/${jobId}/stop`, { method: "POST" }); refresh(); }) }, "Stop");
    const openapi = await ctx.api("/api/openapi.json");
    schema = openapi.components.schemas.SoupRequest;
    form = schemaForm(schema, { id: "soup-form" });
    form.append(startButton, stopButton);
    form.addEventListener("submit", start);
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "Primordial soup"),
        h("p", { class: "muted" }, "BFF programs meet in pairs and run as one tape; above 3 bits/byte of high-order entropy, self-copying programs have taken over."),
        form, stateEl, h("div", { class: "stats" }, figures)),
      h("div", { class: "card" }, h("h2", {}, "High-order entropy"), entropyCanvas),
      h("div", { class: "card" }, h("h2", {}, "Diversity and replicators"), diversityCanvas),
      h("div", { class: "card" }, h("h2", {}, "The soup (first 512 programs, a row each)"),
        h("div", { class: "soupimg" }, image),
        h("p", { class: "legend" }, "green: loops [ ] · magenta: + - . , · blue: head moves < > { } · red: zero · grey: data")),
      h("div", { class: "card" }, h("h2", {}, "Most common programs"),
        h("table", { class: "programs", id: "soup-programs" }, h("thead", {}, h("tr", {}, h("th", {}, "copies"), h("th", {}, "program"))), programs)),
    );
    await load();
  },
  event(event) {
    if (!event.snapshot) refresh();
  },
  show() { draw(); },
};
