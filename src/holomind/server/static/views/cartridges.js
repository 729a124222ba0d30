// The cartridge brain: the radial graph (stem, domains, cartridges, lineage, Hebbian strength,
// activity) and the registry table, from /cartridges and the live `train/cartridges` key.
import { fill, fmt, h, throttle } from "../dom.js";
import { nodeAt, radialGraph } from "../plot.js";

let context, canvas, tooltip, summary, body;
let registry = { exists: false, domains: [], cartridges: [] };
let live = null; // the last train/cartridges value
let nodes = [];

// The registry on disk, with what training reports live laid over it: cartridges spawned since
// the library was last saved show up at once, and every cartridge in memory shows its activity.
function model() {
  const overlay = new Map((live ? live.cartridges : []).map((c) => [c.id, c]));
  const most = Math.max(1, ...[...overlay.values()].map((c) => c.recent_steps || 0));
  const byId = new Map(registry.cartridges.map((meta) => [meta.id, meta]));
  for (const c of overlay.values()) if (!byId.has(c.id)) byId.set(c.id, { ...c, path: "(not saved yet)", size_bytes: null });
  const domains = new Map(registry.domains.map((d) => [d.id, d]));
  for (const c of byId.values()) if (!domains.has(c.domain)) domains.set(c.domain, { id: c.domain, name: c.name });
  return {
    domains: [...domains.values()],
    empty: registry.exists || live ? "the library has no cartridges yet" : "no library yet: train one in the Training view",
    cartridges: [...byId.values()].sort((a, b) => a.id - b.id).map((meta) => {
      const now = overlay.get(meta.id) || {};
      return {
        id: meta.id, domain: meta.domain, name: meta.name, parent: meta.parent,
        strength: now.strength ?? meta.strength, maturity: now.maturity ?? meta.maturity,
        frozen: now.frozen ?? meta.frozen, steps: now.steps ?? meta.steps,
        activity: (now.recent_steps || 0) / most, size_bytes: meta.size_bytes, path: meta.path,
      };
    }),
  };
}

function draw() {
  const graph = model();
  nodes = radialGraph(canvas, graph);
  fill(summary, registry.exists || live
    ? `${graph.cartridges.length} cartridges in ${graph.domains.length} domains · ${registry.library}` +
      (live ? ` · live at step ${live.step}` : "")
    : "no cartridge library yet");
  fill(body, graph.cartridges.map((c) => h("tr", { dataset: { id: c.id } },
    h("td", {}, c.id), h("td", {}, c.path), h("td", {}, c.name), h("td", {}, fmt(c.maturity, 2)),
    h("td", {}, c.frozen ? "yes" : "no"), h("td", {}, c.parent ?? "–"), h("td", {}, fmt(c.steps)),
    h("td", {}, fmt(c.strength, 3)), h("td", {}, c.size_bytes === null ? "–" : fmt(Math.round(c.size_bytes / 1024))))));
}

const reload = throttle(() => context.act(async () => {
  const data = await context.api("/cartridges");
  registry = data;
  if (data.live) live = data.live;
  draw();
}), 3000);

function hover(event) {
  const box = canvas.getBoundingClientRect();
  const node = nodeAt(nodes, event.clientX - box.left, event.clientY - box.top);
  if (!node) { tooltip.style.display = "none"; return; }
  const it = node.item;
  tooltip.textContent = it.kind === "stem" ? "the frozen stem (shared by every cartridge)"
    : it.kind === "domain" ? `domain ${it.id}: ${it.name}`
    : `cartridge ${it.id} (${it.path})\ndomain ${it.name}\nstrength ${fmt(it.strength, 3)}\n` +
      `maturity ${fmt(it.maturity, 2)}${it.frozen ? " · frozen" : ""}\nsteps ${fmt(it.steps)}` +
      (it.parent !== null && it.parent !== undefined ? `\nparent ${it.parent}` : "");
  tooltip.style.display = "block";
  tooltip.style.left = `${event.clientX + 12}px`;
  tooltip.style.top = `${event.clientY + 12}px`;
}

export default {
  id: "cartridges",
  title: "Cartridges",
  order: 40,
  keys: ["train/cartridges", "cartridges/", "train/done"],
  mount(el, ctx) {
    context = ctx;
    canvas = h("canvas", { class: "graph", id: "cartridge-graph" });
    canvas.addEventListener("mousemove", hover);
    canvas.addEventListener("mouseleave", () => { tooltip.style.display = "none"; });
    tooltip = h("div", { class: "tooltip" });
    summary = h("p", { class: "muted", id: "cartridge-summary" });
    body = h("tbody");
    const legend = h("div", { class: "legend" },
      h("span", {}, "size: Hebbian strength"),
      h("span", {}, h("span", { class: "dot", id: "dot-new" }), "new → ", h("span", { class: "dot", id: "dot-settled" }), "settled (maturity)"),
      h("span", {}, "blue ring: frozen"), h("span", {}, "yellow glow: active lately"),
      h("span", {}, "purple curve: lineage (parent → child)"));
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "The cartridge brain"), summary, canvas, legend),
      h("div", { class: "card wide" }, h("h2", {}, "Registry"),
        h("table", { id: "cartridge-table" }, h("thead", {}, h("tr", {},
          ["id", "folder", "domain", "maturity", "frozen", "parent", "steps", "strength", "KB"].map((t) => h("th", {}, t)))),
        body)),
      tooltip,
    );
    reload();
  },
  event(event) {
    if (event.key === "train/cartridges") { live = event.value; draw(); }
    if (!event.snapshot) reload();
  },
  show() { draw(); },
};
