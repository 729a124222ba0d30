// Training the cartridge brain: start `holomind train` on a data folder, watch the loss, phase,
// cartridges, tokens/s and memory, pause, resume, stop, and choose the device.
import { fill, fmt, formValues, h, schemaForm, stats, throttle } from "../dom.js";
import { lineChart } from "../plot.js";

let context, schema, form, folderSelect, stateEl, progress, buttons, device, done, lossCanvas, speedCanvas;
let set = {};
let job = null;
const points = []; // train/metrics values of the current job

const ACTIVE = ["starting", "running", "pausing", "paused", "stopping"];

function draw() {
  const stem = points.filter((m) => m.stage === "stem").map((m) => [m.step, m.loss]);
  const carts = points.filter((m) => m.stage === "cartridges").map((m) => [m.step, m.loss]);
  lineChart(lossCanvas, [{ name: "stem loss", points: stem }, { name: "cartridge loss", points: carts }],
    { xLabel: "step (of its stage)", yLabel: "nats / byte", empty: "start a training job to see its loss" });
  lineChart(speedCanvas, [
    { name: "tokens/s", points: points.map((m, i) => [i, m.tokens_per_s]) },
  ], { xLabel: "report", yLabel: "tokens / s", zero: true, empty: "no reports yet" });
}

function showJob(value) {
  job = value;
  const state = job ? job.state : "no job yet";
  fill(stateEl, h("span", { class: `chip ${state}` }, job ? `job #${job.id}: ${state}` : state),
    job && job.error ? h("span", { class: "bad" }, ` ${job.error}`) : "");
  const active = job && ACTIVE.includes(job.state);
  buttons.pause.disabled = !(active && job.state === "running");
  buttons.resume.disabled = !(active && ["pausing", "paused"].includes(job.state));
  buttons.stop.disabled = !active || job.state === "stopping";
  buttons.start.disabled = Boolean(active);
  if (job && job.result) showDone(job.result);
}

function showDone(summary) {
  const rows = Object.entries(summary.val_after || {}).map(([name, after]) =>
    h("tr", {}, h("td", {}, name || "all"), h("td", {}, fmt((summary.val_before || {})[name], 4)), h("td", {}, fmt(after, 4))));
  fill(done, h("h2", {}, summary.stopped_early ? "Stopped early (library saved)" : "Finished"),
    h("p", { class: "muted" }, `${summary.step} steps in stage ${summary.stage}, ${summary.cartridges} cartridges`),
    rows.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "domain"), h("th", {}, "validation loss before"), h("th", {}, "after"))), h("tbody", {}, rows)) : "");
}

function showMetrics(m) {
  set.stage(m.stage); set.phase(m.phase); set.loss(fmt(m.loss, 4));
  set.step(`${fmt(m.step)} / ${fmt(m.total)}`);
  set.active(`${fmt(m.active)} / ${fmt(m.cartridges)}`);
  set.tokens(fmt(Math.round(m.tokens_per_s))); set.rss(fmt(Math.round(m.rss_mb)));
  progress.max = m.total || 1; progress.value = m.step;
}

const load = () => context.act(async () => {
  const info = await context.api("/api/training");
  fill(device, `device: ${info.device}`, info.gpu ? " (a GPU is available)" : " (no GPU on this machine)");
  const chosen = folderSelect.value;
  fill(folderSelect, info.folders.map((f) => h("option", { value: f.name, selected: f.name === chosen }, `${f.name} (${f.txt_files} .txt)`)));
  if (!info.folders.length) folderSelect.append(h("option", { value: "" }, `no folders in ${info.data_root}`));
  showJob(info.job);
});
const refresh = throttle(load, 500);

async function start(event) {
  event.preventDefault();
  const body = { ...formValues(form, schema), data: folderSelect.value };
  const started = await context.act(() => context.api("/api/training/start", { method: "POST", body }));
  if (started) { points.length = 0; draw(); showJob(started); fill(done); }
}

const act = (path) => () => context.act(async () => showJob(await context.api(path, { method: "POST" })));

async function mode(which) {
  const result = await context.act(() => context.api(`/training/mode/${which}`, { method: "POST" }));
  if (result) { context.toast(`training device: ${result.device} (${result.note})`); refresh(); }
}

export default {
  id: "training",
  title: "Training",
  order: 30,
  keys: ["train/", "server/jobs"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["stage", "phase", "step", "loss", "active", "frozen", "tokens", "rss"],
      { active: "active / cartridges", frozen: "frozen (in memory)", tokens: "tokens / s", rss: "RSS MB" });
    folderSelect = h("select", { name: "data", id: "train-data" });
    stateEl = h("div", { id: "train-state" });
    progress = h("progress", { value: 0, max: 1 });
    device = h("span", { class: "muted", id: "train-device" });
    done = h("div", { id: "train-done" });
    lossCanvas = h("canvas", { class: "plot", id: "train-loss" });
    speedCanvas = h("canvas", { class: "plot", id: "train-speed" });
    buttons = {
      start: h("button", { class: "primary", id: "train-start", type: "submit" }, "Start training"),
      pause: h("button", { id: "train-pause", disabled: true, onclick: act("/training/pause") }, "Pause"),
      resume: h("button", { id: "train-resume", disabled: true, onclick: act("/training/resume") }, "Resume"),
      stop: h("button", { id: "train-stop", disabled: true, onclick: () => job && act(`/api/jobs/${job.id}/stop`)() }, "Stop"),
    };
    const openapi = await ctx.api("/api/openapi.json");
    schema = openapi.components.schemas.TrainRequest;
    form = schemaForm(schema, { skip: ["data"], id: "train-form" });
    form.prepend(h("label", {}, "data folder", folderSelect));
    form.append(buttons.start);
    form.addEventListener("submit", start);
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "Train the cartridge brain"),
        h("p", { class: "muted" }, "Sub-folders of a data folder name domains; each domain gets its own cartridge on the frozen stem."),
        form),
      h("div", { class: "card" }, h("h2", {}, "Now"), stateEl, progress,
        h("div", { class: "stats" }, figures),
        h("div", { class: "row" }, buttons.pause, buttons.resume, buttons.stop),
        h("div", { class: "row" }, device,
          h("button", { id: "mode-cpu", onclick: () => mode("cpu") }, "CPU"),
          h("button", { id: "mode-gpu", onclick: () => mode("gpu") }, "GPU")),
        done),
      h("div", { class: "card" }, h("h2", {}, "Loss"), lossCanvas),
      h("div", { class: "card" }, h("h2", {}, "Throughput"), speedCanvas),
    );
    await load();
    const since = job ? job.started : Infinity;
    const history = await ctx.history("train/metrics");
    points.splice(0, points.length, ...history.filter((e) => e.time >= since).map((e) => e.value));
    if (points.length) showMetrics(points[points.length - 1]);
    draw();
  },
  event(event) {
    if (event.snapshot) return;
    if (event.key === "train/metrics") {
      points.push(event.value);
      showMetrics(event.value);
      draw();
    } else if (event.key === "train/cartridges") {
      set.frozen(fmt(event.value.cartridges.filter((c) => c.frozen).length));
    } else if (event.key === "train/done") {
      showDone(event.value);
    } else if (event.key === "server/jobs") {
      refresh();
    }
  },
  show() { draw(); },
};
