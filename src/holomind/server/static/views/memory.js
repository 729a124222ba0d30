// The pixel network's records: list, search, show, teach, export and import.
import { fill, fmt, h, stats, throttle } from "../dom.js";

const PAGE = 25;
let context, list, detail, pager, found, setRecords, setSuperseded, setBytes, setVectors;
let offset = 0;

function row(record, score) {
  return h("tr", { class: "clickable", dataset: { id: record.id }, onclick: () => showRecord(record) },
    h("td", {}, `#${record.id}`),
    h("td", {}, record.created.slice(0, 19).replace("T", " ")),
    h("td", {}, record.question.length > 90 ? record.question.slice(0, 89) + "…" : record.question),
    h("td", {}, record.answer.length > 120 ? record.answer.slice(0, 119) + "…" : record.answer),
    h("td", {}, score === undefined ? record.model || "" : fmt(score)));
}

function table(id, last) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, h("th", {}, "id"), h("th", {}, "created (UTC)"), h("th", {}, "question"),
      h("th", {}, "answer"), h("th", {}, last))));
}

function showRecord(record) {
  fill(detail,
    h("h2", {}, `Record #${record.id}`),
    h("p", { class: "muted" }, `${record.created} · hash ${record.hash.slice(0, 16)}…`,
      record.model ? ` · model ${record.model}` : "",
      record.supersedes ? ` · replaces #${record.supersedes}` : "",
      record.superseded_by ? ` · replaced by #${record.superseded_by}` : ""),
    h("h2", {}, "Question"), h("pre", {}, record.question),
    h("h2", {}, "Answer"), h("pre", {}, record.answer),
    Object.keys(record.meta || {}).length ? h("pre", {}, JSON.stringify(record.meta, null, 2)) : null);
}

const load = throttle(() => context.act(async () => {
  const [stats, page] = await Promise.all([
    context.api("/api/memory"),
    context.api(`/api/memory/records?offset=${offset}&limit=${PAGE}`),
  ]);
  setRecords(fmt(stats.records)); setSuperseded(fmt(stats.superseded));
  setBytes(fmt(stats.bytes)); setVectors(fmt(stats.with_vectors));
  const body = h("tbody", {}, page.records.map((r) => row(r)));
  list.querySelector("tbody")?.remove();
  list.append(body);
  const last = Math.min(page.total, offset + PAGE);
  fill(pager,
    h("button", { disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, "newer"),
    h("span", { class: "muted" }, page.total ? ` ${offset + 1}–${last} of ${fmt(page.total)} (newest first) ` : " no records yet "),
    h("button", { disabled: last >= page.total, onclick: () => { offset += PAGE; load(); } }, "older"));
}), 1000);

async function search(event) {
  event.preventDefault();
  const q = event.target.elements.q.value.trim();
  if (!q) return;
  const hits = await context.act(() => context.api(`/api/memory/search?q=${encodeURIComponent(q)}&k=10`));
  if (!hits) return;
  const t = table("memory-hits", "score");
  t.append(h("tbody", {}, hits.map((hit) => row(hit.record, hit.score))));
  fill(found, hits.length ? [h("p", { class: "muted" }, `${hits.length} found (${hits[0].via})`), t]
    : h("p", { class: "muted" }, "nothing found"));
}

async function teach(event) {
  event.preventDefault();
  const form = event.target;
  const record = await context.act(() => context.api("/api/memory/records", {
    method: "POST", body: { question: form.elements.question.value, answer: form.elements.answer.value },
  }));
  if (record) {
    context.toast(`remembered as record #${record.id}`);
    form.reset();
    showRecord(record);
  }
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  const format = file.name.toLowerCase().endsWith(".jsonl") ? "jsonl" : "png";
  const result = await context.act(async () =>
    context.api(`/api/memory/import?format=${format}`, { method: "POST", raw: await file.arrayBuffer() }));
  event.target.value = "";
  if (result) context.toast(`imported ${result.added} new records (${result.records} in all)`);
}

export default {
  id: "memory",
  title: "Memory",
  order: 20,
  keys: ["memory/appended"],
  mount(el, ctx) {
    context = ctx;
    const [figures, set] = stats(["records", "superseded", "bytes", "vectors"], { vectors: "with vectors" });
    setRecords = set.records; setSuperseded = set.superseded; setBytes = set.bytes; setVectors = set.vectors;
    list = table("memory-records", "model");
    detail = h("div", { class: "muted", id: "memory-detail" }, "Click a record to read it whole.");
    pager = h("div", { class: "row" });
    found = h("div");
    el.append(
      h("div", { class: "card wide" }, h("h2", {}, "Pixel network"), h("div", { class: "stats" }, figures)),
      h("div", { class: "card" }, h("h2", {}, "Records"), list, pager),
      h("div", { class: "card" }, detail),
      h("div", { class: "card" }, h("h2", {}, "Search"),
        h("form", { onsubmit: search, id: "memory-search" },
          h("input", { name: "q", placeholder: "what are you looking for?", size: 40 }),
          h("button", { class: "primary" }, "Search")), found),
      h("div", { class: "card" }, h("h2", {}, "Teach"),
        h("form", { onsubmit: teach, id: "memory-teach" },
          h("label", { class: "full" }, "question", h("textarea", { name: "question", required: true })),
          h("label", { class: "full" }, "answer", h("textarea", { name: "answer", required: true })),
          h("button", { class: "primary" }, "Remember"))),
      h("div", { class: "card" }, h("h2", {}, "Export and import"),
        h("div", { class: "row" },
          h("a", { href: "/api/memory/export?format=png", download: "" }, h("button", { type: "button" }, "Export .png")),
          h("a", { href: "/api/memory/export?format=jsonl", download: "" }, h("button", { type: "button" }, "Export .jsonl")),
          h("label", {}, "import a .png network or .jsonl export",
            h("input", { type: "file", accept: ".png,.jsonl", id: "memory-import", onchange: upload })))),
    );
    load();
  },
  event(event) {
    if (!event.snapshot) load();
  },
};
