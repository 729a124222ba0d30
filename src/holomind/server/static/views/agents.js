// The agents: the RL agent acting on the network (its action, probabilities, rewards), the LLM
// agents spawned by novelty with their messages (proposals can be adopted), and every agent's balance.
import { fill, fmt, h, stats, throttle } from "../dom.js";
import { lineChart } from "../plot.js";

let context, rewardCanvas, roster, messages, table;
let set = {};
let steps = [];
let seen = new Set();

function drawRewards() {
  const points = steps.map((s) => [s.step, s.reward]);
  const mean = points.map(([x], i) => {
    const w = points.slice(Math.max(0, i - 19), i + 1);
    return [x, w.reduce((a, p) => a + p[1], 0) / w.length];
  });
  lineChart(rewardCanvas, [{ name: "reward", points }, { name: "mean of 20", points: mean }],
    { xLabel: "agent step", yLabel: "reward", empty: "start a simulation with agents" });
}

function showStep(s) {
  set.episode(fmt(s.episode)); set.step(fmt(s.step)); set.action(s.action);
  set.probs((s.probs || []).map((p) => p.toFixed(2)).join(" / ")); set.best(fmt(s.best_return));
  set.updates(fmt(s.updates)); set.learning(s.learning ? "yes" : "no");
}

function showRoster(live) {
  fill(roster, live.length ? live.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, a.role),
    h("td", {}, a.reason), h("td", {}, fmt(a.messages)), h("td", {}, fmt(a.pending))))
    : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "no LLM agent alive: they spawn when the soup crosses its transition, a cartridge domain appears, or the rate jumps")));
}

function addMessage(m) {
  if (seen.has(m.id)) return;
  seen.add(m.id);
  const adopt = m.kind === "proposal" && m.action
    ? h("button", { type: "button", class: "adopt", onclick: () => context.act(async () => {
        const done = await context.api(`/api/agents/messages/${m.id}/adopt`, { method: "POST" });
        context.toast(`adopted: ${done.action} (ledger entry #${done.ledger_seq ?? "–"})`); loadAgents();
      }) }, `adopt: ${m.action}`)
    : "";
  messages.prepend(h("div", { class: `msg llm ${m.kind}`, "data-id": m.id },
    h("b", {}, `${m.agent} · ${m.kind}`), " ", m.text, " ", adopt,
    h("span", { class: "meta" }, `#${m.id} · ${new Date(m.time * 1000).toLocaleTimeString()}${m.news && m.news.length ? " · " + m.news.join("; ") : ""}`)));
}

// A row of the book (GET /api/agents/messages) in the workspace message's shape.
function fromRow(r) {
  let text = r.llm_response || "";
  try { const d = JSON.parse(text); if (d && d.text) text = d.text; } catch { /* free text */ }
  return { id: r.id, agent: r.agent, kind: r.kind, text, time: r.time, action: r.action === null ? null : ["increase", "decrease", "maintain"][r.action] };
}

const loadAgents = throttle(() => context.act(async () => {
  const data = await context.api("/api/agents");
  fill(table, data.agents.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, a.kind), h("td", {}, a.role),
    h("td", {}, a.retired ? `retired (${a.retired_why})` : "alive"), h("td", {}, fmt(a.interactions)),
    h("td", {}, a.balance === null || a.balance === undefined ? "–" : `${a.balance} HMC`))));
  showRoster(data.live);
}), 1500);

export default {
  id: "agents",
  title: "Agents",
  order: 56,
  keys: ["agents/", "ledger/rewarded"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["episode", "step", "action", "probs", "best", "updates", "learning"],
      { probs: "p(increase / decrease / maintain)", best: "best return" });
    rewardCanvas = h("canvas", { class: "plot", id: "agents-rewards" });
    roster = h("tbody", { id: "agents-roster" });
    messages = h("div", { class: "messages", id: "agents-messages" });
    table = h("tbody", { id: "agents-table" });
    el.append(
      h("div", { class: "card" }, h("h2", {}, "RL agent (seed 002's policy, PPO)"), h("div", { class: "stats" }, figures), rewardCanvas),
      h("div", { class: "card" }, h("h2", {}, "LLM agents alive"),
        h("table", {}, h("thead", {}, h("tr", {}, ["name", "role", "spawned because", "messages", "pending"].map((c) => h("th", {}, c)))), roster),
        h("h2", {}, "Messages (newest first)"), messages),
      h("div", { class: "card wide" }, h("h2", {}, "Every agent"),
        h("table", {}, h("thead", {}, h("tr", {}, ["name", "kind", "role", "status", "rows", "balance"].map((c) => h("th", {}, c)))), table)),
    );
    steps = (await ctx.history("agents/rl", 1000)).map((e) => e.value);
    if (steps.length) showStep(steps[steps.length - 1]);
    for (const row of await ctx.api("/api/agents/messages?last=50")) addMessage(fromRow(row));
    showRoster([]);
    loadAgents();
    drawRewards();
  },
  event(ev) {
    if (ev.snapshot) return;
    if (ev.key === "agents/rl") { steps.push(ev.value); if (steps.length > 2000) steps.shift(); showStep(ev.value); this.redraw(); }
    else if (ev.key === "agents/messages") addMessage(ev.value);
    else if (ev.key === "agents/roster") showRoster(ev.value);
    if (ev.key === "ledger/rewarded" || ev.key === "agents/roster") loadAgents();
  },
  redraw: throttle(() => drawRewards(), 500),
  show() { drawRewards(); },
};
