// Small helpers every view uses: building elements safely, formatting numbers, throttling.

// h("div", {class: "card", onclick: fn}, "text", child) — text is always set as text, never HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replace an element's children.
export function fill(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return el;
}

export function fmt(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en");
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString("en") : value.toPrecision(digits);
}

export function age(seconds) {
  if (seconds < 1) return "now";
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

// Call fn at most once per `ms`, always with the latest arguments, never dropping the last call.
export function throttle(fn, ms) {
  let timer = null, pending = null, last = 0;
  return (...args) => {
    pending = args;
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null; last = Date.now();
      const call = pending; pending = null;
      fn(...call);
    }, wait);
  };
}

// A labelled figure: <div class="stat"><b>value</b><span>name</span></div>; returns [el, set].
export function stat(name) {
  const value = h("b", {}, "–");
  const el = h("div", { class: "stat" }, value, h("span", {}, name));
  return [el, (v) => { value.textContent = v; }];
}

// Several figures: returns [elements, {name: set}], each labelled labels[name] or its name.
export function stats(names, labels = {}) {
  const elements = [], set = {};
  for (const name of names) {
    const [el, setter] = stat(labels[name] || name);
    elements.push(el);
    set[name] = setter;
  }
  return [elements, set];
}

// A form built from a request model of the server's OpenAPI schema (one input per field, with
// its default, bounds and description), so a field added on the server shows up here by itself.
// `skip` names fields the caller renders itself; `values(form)` reads the fields back.
export function schemaForm(schema, { skip = [], id } = {}) {
  const form = h("form", { id });
  for (const [name, field] of Object.entries(schema.properties || {})) {
    if (skip.includes(name)) continue;
    const title = name.replaceAll("_", " ");
    let input;
    if (field.enum) {
      input = h("select", { name }, field.enum.map((v) => h("option", { value: v, selected: v === field.default }, v)));
    } else if (field.type === "boolean") {
      input = h("input", { name, type: "checkbox", checked: Boolean(field.default) });
    } else if (field.type === "integer" || field.type === "number") {
      input = h("input", {
        name, type: "number", value: field.default, min: field.minimum ?? field.exclusiveMinimum,
        max: field.maximum, step: field.type === "integer" ? (field.multipleOf || 1) : "any",
      });
    } else {
      input = h("input", { name, value: field.default ?? "" });
    }
    form.append(h("label", { title: field.description || "" }, title, input));
  }
  return form;
}

export function formValues(form, schema) {
  const out = {};
  for (const [name, field] of Object.entries(schema.properties || {})) {
    const input = form.elements[name];
    if (!input) continue;
    if (field.type === "boolean") out[name] = input.checked;
    else if (field.type === "integer") out[name] = parseInt(input.value, 10);
    else if (field.type === "number") out[name] = parseFloat(input.value);
    else out[name] = input.value;
  }
  return out;
}
