// The spiking network live: start a simulation (with its agents) as a job, watch the spike
// raster and the rate against the target band, see every modulation decision, steer it by hand.
import { fill, fmt, formValues, h, schemaForm, stats, throttle } from "../dom.js";
import { lineChart, spikeRaster } from "../plot.js";

const ACTIVE = ["starting", "running", "stopping"];
const MARK = { increase: "#7bd88f", decrease: "#ff6b8b", maintain: "#7d8799" };
let context, schema, form, startButton, stopButton, stateEl, raster, rateCanvas, decisions;
let set = {};
let job = null;
let spikes = [], states = [], mods = [];

function band() {
  const p = job ? job.params : {};
  return [p.band_low_hz ?? 5, p.band_high_hz ?? 15];
}

function draw() {
  spikeRaster(raster, spikes, {
    window: 2, marks: mods.filter((m) => Number.isFinite(m.t_s)).map((m) => ({ t_s: m.t_s, color: MARK[m.action] })),
    empty: "start a simulation to see its spikes",
  });
  const [low, high] = band();
  const t = states.map((s) => s.t_s);
  lineChart(rateCanvas, [
    { name: "rate (Hz)", points: states.map((s) => [s.t_s, s.rate_hz]) },
    { name: `band ${low}–${high} Hz`, color: "#7d8799", points: t.length ? [[t[0], low], [t[t.length - 1], low], [t[t.length - 1], high], [t[0], high], [t[0], low]] : [] },
  ], { xLabel: "simulated time (s)", yLabel: "Hz", zero: true, empty: "no chunks yet" });
}

function showDecisions() {
  fill(decisions, mods.slice(-40).reverse().map((m) => h("tr", {},
    h("td", {}, fmt(m.t_s, 4)), h("td", {}, m.source || "–"), h("td", { class: m.action === "increase" ? "good" : m.action === "decrease" ? "bad" : "muted" }, m.action),
    h("td", {}, fmt(m.strength)), h("td", {}, fmt(m.rate_hz)))));
}

function showState(state) {
  if (!state) return;
  set.t(fmt(state.t_s, 4)); set.rate(fmt(state.rate_hz)); set.voltage(fmt(state.mean_v_mv));
  set.drive(fmt(state.drive_pa)); set.spikes(fmt(state.total_spikes)); set.neurons(fmt(state.neurons));
}

const load = () => context.act(async () => {
  job = (await context.api("/api/sim")).job;
  const state = job ? job.state : "no simulation yet";
  fill(stateEl, h("span", { class: `chip ${state}` }, job ? `simulation #${job.id}: ${state}` : state),
    job && job.progress && job.progress.eta_s != null ? h("span", { class: "muted" }, ` ETA ${fmt(job.progress.eta_s, 2)} s`) : "",
    job && job.error ? h("span", { class: "bad" }, ` ${job.error}`) : "");
  startButton.disabled = Boolean(job && ACTIVE.includes(job.state));
  stopButton.disabled = !(job && job.state === "running");
});
const refresh = throttle(load, 1000);
const redraw = throttle(() => { draw(); showDecisions(); }, 250);

function modulate(action) {
  return context.act(() => context.api("/api/sim/modulate", { method: "POST", body: { action, strength: 1 } }));
}

export default {
  id: "sim",
  title: "Simulation",
  order: 55,
  keys: ["neuro/", "modulation", "server/jobs"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["t", "rate", "voltage", "drive", "spikes", "neurons"],
      { t: "network time (s)", rate: "rate (Hz)", voltage: "mean V (mV)", drive: "drive (pA)", spikes: "spikes in all" });
    stateEl = h("div", { id: "sim-state" });
    raster = h("canvas", { class: "plot raster", id: "sim-raster" });
    rateCanvas = h("canvas", { class: "plot", id: "sim-rate" });
    decisions = h("tbody", { id: "sim-decisions" });
    startButton = h("button", { class: "primary", id: "sim-start", type: "submit" }, "Start");
    stopButton = h("button", { id: "sim-stop", type: "button", disabled: true,
      onclick: () => context.act(async () => { await context.api(`/api/jobs/${job.id}/stop`, { method: "POST" }); refresh(); }) }, "Stop");
    const openapi = await ctx.api("/api/openapi.json");
    schema = openapi.components.schemas.SimRequest;
    form = schemaForm(schema, { id: "sim-form" });
    form.append(startButton, stopButton);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const started = await context.act(() => context.api("/api/sim/start", { method: "POST", body: formValues(form, schema) }));
      if (started) { job = started; spikes = []; states = []; mods = []; refresh(); }
    });
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "Spiking network"),
        h("p", { class: "muted" }, "Seed 002's network (or COBA/CUBA) runs chunk by chunk on the server's workspace; with agents, the RL agent modulates its drive after every chunk, learning as it goes."),
        form, stateEl, h("div", { class: "stats" }, figures),
        h("div", { class: "legend" }, "modulate by hand:",
          ["increase", "maintain", "decrease"].map((a) => h("button", { type: "button", id: `sim-${a}`, onclick: () => modulate(a) }, a)))),
      h("div", { class: "card wide" }, h("h2", {}, "Spike raster (last 2 s, first neurons)"), raster,
        h("p", { class: "legend" }, "ticks at the bottom: modulations — green increase, grey maintain, red decrease")),
      h("div", { class: "card" }, h("h2", {}, "Population rate and target band"), rateCanvas),
      h("div", { class: "card" }, h("h2", {}, "Modulation decisions (newest first)"),
        h("table", { class: "decisions" }, h("thead", {}, h("tr", {}, ["t (s)", "source", "action", "strength", "rate seen"].map((c) => h("th", {}, c)))), decisions)),
    );
    const [sp, st, md] = await Promise.all([ctx.history("neuro/spikes", 40), ctx.history("neuro/state"), ctx.history("modulation", 200)]);
    spikes = sp.map((e) => e.value); states = st.map((e) => e.value);
    mods = md.map((e) => (typeof e.value === "string" ? { action: e.value } : e.value));
    showState(states[states.length - 1]);
    await load();
    draw(); showDecisions();
  },
  event(ev) {
    if (ev.snapshot) return;
    if (ev.key === "neuro/spikes") { spikes.push(ev.value); if (spikes.length > 60) spikes.shift(); redraw(); }
    else if (ev.key === "neuro/state") { states.push(ev.value); if (states.length > 2000) states.shift(); showState(ev.value); redraw(); }
    else if (ev.key === "modulation") { mods.push(typeof ev.value === "string" ? { action: ev.value } : ev.value); if (mods.length > 500) mods.shift(); redraw(); }
    else if (ev.key === "server/jobs") refresh();
  },
  show() { draw(); },
};
