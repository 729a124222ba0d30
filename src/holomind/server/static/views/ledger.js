// The reward ledger: balances, supply, the signed tree head, the latest entries (new rewards
// appear as agents earn them), and a full verification on demand.
import { fill, fmt, h, stats, throttle } from "../dom.js";

let context, balances, entries, verdict, headEl;
let set = {};

function describe(f) {
  const e = f;
  if (e.kind === "mint") return `${f.amount} HMC → ${f.to}: ${f.memo}`;
  if (e.kind === "transfer") return `${f.amount} HMC ${f.from} → ${f.to}: ${f.memo}`;
  if (e.kind === "account") return `account ${f.name} opened`;
  return e.kind;
}

const load = throttle(() => context.act(async () => {
  const data = await context.api("/api/ledger?last=25");
  const s = data.ledger;
  if (!s) {
    set.entries("0"); set.supply("0"); set.accounts("0");
    fill(headEl, "no ledger yet: it is created when an agent first earns a reward");
    return;
  }
  set.entries(fmt(s.entries)); set.supply(`${fmt(s.supply)} ${s.unit}`); set.accounts(fmt(s.accounts.length));
  fill(headEl, `signed tree head: ${s.head.size} entries, root `, h("span", { class: "hash" }, s.head.root));
  fill(balances, s.accounts.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, `${fmt(a.balance)} HMC`), h("td", {}, `${fmt(a.earned)} HMC`))));
  fill(entries, data.entries.slice().reverse().map((e) => h("tr", {}, h("td", {}, `#${e.seq}`),
    h("td", {}, new Date(e.time).toLocaleTimeString()), h("td", {}, e.kind), h("td", {}, describe(e)))));
}), 1000);

export default {
  id: "ledger",
  title: "Ledger",
  order: 57,
  keys: ["ledger/"],
  async mount(el, ctx) {
    context = ctx;
    let figures;
    [figures, set] = stats(["entries", "supply", "accounts"]);
    balances = h("tbody", { id: "ledger-balances" });
    entries = h("tbody", { id: "ledger-entries" });
    verdict = h("div", { id: "ledger-verdict", class: "muted" }, "not verified in this page yet");
    headEl = h("p", { class: "muted", id: "ledger-head" });
    const verify = h("button", { type: "button", class: "primary", id: "ledger-verify", onclick: () => context.act(async () => {
      fill(verdict, "verifying every entry…");
      const r = await context.api("/api/ledger/verify");
      fill(verdict, h("span", { class: r.ok ? "good" : "bad" }, r.ok ? `verified: ${r.entries} entries, every signature, the chain and the signed head` : `entry #${r.first_bad}: ${r.problem}`));
    }) }, "Verify");
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "Reward ledger (a local, signed, hash-chained log; not a blockchain)"),
        h("div", { class: "stats" }, figures), headEl, verify, verdict),
      h("div", { class: "card" }, h("h2", {}, "Balances"),
        h("table", {}, h("thead", {}, h("tr", {}, ["account", "balance", "earned"].map((c) => h("th", {}, c)))), balances)),
      h("div", { class: "card" }, h("h2", {}, "Latest entries"),
        h("table", { class: "entries" }, h("thead", {}, h("tr", {}, ["entry", "time", "kind", "what"].map((c) => h("th", {}, c)))), entries)),
    );
    load();
  },
  event(ev) { if (!ev.snapshot) load(); },
  show() {},
};
