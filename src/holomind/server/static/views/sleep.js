// Sleep: consolidate the pixel network (hippocampus) into the cartridge library (neocortex),
// watch `sleep/progress` live, and see how far the library has consolidated the network.
import { fill, fmt, h, stats } from "../dom.js";

let context, set, progress, stateEl, startButton, stopButton, where;
let job = null;

function showStatus(info) {
  job = info.job;
  fill(where, `${info.consolidated} of ${info.records} records of ${info.network} consolidated into ${info.library}`);
  const state = job ? job.state : "no sleep yet";
  fill(stateEl, h("span", { class: `chip ${state}` }, job ? `sleep #${job.id}: ${state}` : state),
    job && job.error ? h("span", { class: "bad" }, ` ${job.error}`) : "");
  const active = job && ["starting", "running", "stopping"].includes(job.state);
  startButton.disabled = Boolean(active) || info.consolidated >= info.records;
  stopButton.disabled = !active || job.state === "stopping";
}

function showProgress(p) {
  set.status(p.status); set.phase(p.phase); set.loss(fmt(p.loss, 4));
  set.step(`${fmt(p.step)} / ${fmt(p.total)}`); set.eta(`${fmt(Math.round(p.eta_s))} s`);
  set.records(`${fmt(p.new)} new, ${fmt(p.rehearsed)} rehearsed`);
  progress.max = p.total || 1; progress.value = p.step;
}

const load = () => context.act(async () => showStatus(await context.api("/api/sleep")));

export default {
  id: "sleep",
  title: "Sleep",
  order: 35,
  keys: ["sleep/", "server/jobs"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["status", "phase", "step", "loss", "eta", "records"], { eta: "ETA" });
    progress = h("progress", { value: 0, max: 1, id: "sleep-progress" });
    stateEl = h("div", { id: "sleep-state" });
    where = h("p", { class: "muted", id: "sleep-where" });
    startButton = h("button", { class: "primary", id: "sleep-start", onclick: () => context.act(async () => {
      showStatus({ ...(await context.api("/api/sleep")), job: await context.api("/api/sleep/start", { method: "POST", body: {} }) });
    }) }, "Sleep now");
    stopButton = h("button", { id: "sleep-stop", disabled: true, onclick: () => job && context.act(async () => {
      await context.api(`/api/jobs/${job.id}/stop`, { method: "POST" }); load();
    }) }, "Stop (saved; the next sleep continues)");
    el.append(h("div", { class: "card wide" }, h("h2", {}, "Sleep: replay memories into the cartridges"),
      h("p", { class: "muted" }, "New records are replayed 4 times, earlier ones once; superseded answers never. The library records how far it has consolidated."),
      where, stateEl, progress, h("div", { class: "stats" }, figures), h("div", { class: "row" }, startButton, stopButton)));
    await load();
    const history = await ctx.history("sleep/progress");
    if (history.length) showProgress(history[history.length - 1].value);
  },
  event(event) {
    if (event.snapshot) return;
    if (event.key === "sleep/progress") {
      showProgress(event.value);
      if (event.value.status !== "sleeping") load();
    } else if (event.key === "server/jobs") {
      load();
    }
  },
};
