// The workspace itself: every key, its version, its age and its value, live.
import { age, fill, h } from "../dom.js";

const rows = new Map(); // key -> {tr, version, age, value, event}
let body, detail, chosen;

function preview(value) {
  const text = JSON.stringify(value);
  return text.length > 160 ? text.slice(0, 157) + "…" : text;
}

function show(key) {
  chosen = key;
  const event = rows.get(key).event;
  fill(detail, h("h2", {}, key), h("pre", {}, JSON.stringify(event.value, null, 2)));
}

export default {
  id: "workspace",
  title: "Workspace",
  order: 90,
  keys: [], // every key
  mount(el) {
    body = h("tbody");
    detail = h("div", { class: "muted" }, "Click a key to see its whole value.");
    el.append(
      h("div", { class: "card wide" },
        h("h2", {}, "Global workspace"),
        h("p", { class: "muted" }, "Every key a part of HoloMind has published, as it changes."),
        h("table", { id: "workspace-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "key"), h("th", {}, "version"), h("th", {}, "age"), h("th", {}, "value"))),
          body)),
      h("div", { class: "card wide" }, detail),
    );
    setInterval(() => {
      const now = Date.now() / 1000;
      for (const row of rows.values()) row.age.textContent = age(now - row.event.time);
    }, 1000);
  },
  event(event) {
    let row = rows.get(event.key);
    if (!row) {
      const tr = h("tr", { class: "clickable", dataset: { key: event.key }, onclick: () => show(event.key) });
      row = { tr, version: h("td", { class: "nowrap" }), age: h("td", { class: "nowrap" }), value: h("td", { class: "value" }) };
      tr.append(h("td", {}, event.key), row.version, row.age, row.value);
      rows.set(event.key, row);
      const after = [...rows.keys()].sort().find((k) => k > event.key);
      body.insertBefore(tr, after ? rows.get(after).tr : null);
    }
    row.event = event;
    row.version.textContent = event.version;
    row.age.textContent = age(Date.now() / 1000 - event.time);
    row.value.textContent = preview(event.value);
    if (!event.snapshot && row.tr.offsetParent !== null) { // flash only what a person can see
      row.tr.classList.remove("flash");
      void row.tr.offsetWidth; // restart the animation
      row.tr.classList.add("flash");
    }
    if (chosen === event.key) show(event.key);
  },
};
