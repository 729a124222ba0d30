// The dashboard's core: the live stream, the API helper and the view registry.
//
// Each view is a module in /static/views/ (the server lists them at /api/views) whose default
// export is {id, title, order, keys, mount(el, ctx), event(ev, ctx), show(ctx)}. `keys` are the
// workspace key prefixes it wants: every write to a matching key reaches its `event` as
// {key, value, version, time}, first for every live key when the page connects (with
// `snapshot: true`), then as each write happens.
import { fill, fmt, h } from "./dom.js";

const latest = new Map(); // key -> the last event seen
const views = [];

async function api(path, { method = "GET", body, raw } = {}) {
  const init = { method, headers: {} };
  if (raw !== undefined) {
    init.body = raw;
    init.headers["content-type"] = "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const detail = data && data.error ? data.error + (data.hint ? `: ${data.hint}` : "")
      : data && data.detail ? JSON.stringify(data.detail) : `${response.status} ${response.statusText}`;
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return data;
}

function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  const item = h("div", { class: kind }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

const ctx = {
  api,
  toast,
  latest: (key) => latest.get(key),
  history: (key, limit = 1000) => api(`/api/workspace/history?key=${encodeURIComponent(key)}&limit=${limit}`),
  // Run an action from a button: errors become a toast instead of an unhandled rejection.
  async act(action) {
    try { return await action(); } catch (error) { toast(error.message, "error"); return undefined; }
  },
};

function wants(view, key) {
  return !view.keys || view.keys.length === 0 || view.keys.some((prefix) => key.startsWith(prefix));
}

function dispatch(event) {
  latest.set(event.key, event);
  header(event);
  for (const view of views) {
    if (view.event && wants(view, event.key)) {
      try { view.event(event, ctx); } catch (error) { console.warn(`${view.id}:`, error); }
    }
  }
}

function header(event) {
  if (event.key === "server/system") {
    const s = event.value;
    fill(document.getElementById("system"),
      `CPU ${fmt(s.cpu_percent, 2)} % · RSS ${fmt(s.rss_mb, 3)} MB · load ${fmt(s.load_1m, 2)}`);
  } else if (event.key === "server/jobs") {
    const running = event.value.filter((j) => ["starting", "running", "pausing", "paused", "stopping"].includes(j.state));
    fill(document.getElementById("jobs"),
      running.map((j) => h("span", { class: `chip ${j.state}` }, `${j.kind} #${j.id} ${j.state}`)));
  }
}

function connect() {
  const conn = document.getElementById("conn");
  const source = new EventSource("/stream/metrics");
  source.addEventListener("snapshot", (message) => {
    conn.textContent = "live";
    conn.className = "conn live";
    for (const event of JSON.parse(message.data)) dispatch({ ...event, snapshot: true });
  });
  source.addEventListener("ws", (message) => dispatch(JSON.parse(message.data)));
  source.onerror = () => { conn.textContent = "reconnecting…"; conn.className = "conn down"; };
}

function route() {
  const wanted = location.hash.slice(1);
  const current = views.find((v) => v.id === wanted) || views[0];
  for (const view of views) {
    const shown = view === current;
    view.el.classList.toggle("shown", shown);
    view.link.classList.toggle("active", shown);
    if (shown && view.show) {
      try { view.show(ctx); } catch (error) { console.warn(`${view.id}:`, error); }
    }
  }
}

async function main() {
  // A token given as ?token=… is now a cookie: take it out of the address bar.
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", "/" + location.hash);
  const names = await api("/api/views");
  const modules = await Promise.all(names.map((name) => import(`./views/${name}.js`)));
  const nav = document.getElementById("nav");
  const main = document.getElementById("views");
  for (const module of modules.map((m) => m.default).sort((a, b) => a.order - b.order)) {
    const view = { ...module };
    view.el = h("section", { class: "view", id: `view-${view.id}` });
    view.link = h("a", { href: `#${view.id}`, id: `nav-${view.id}` }, view.title);
    nav.append(view.link);
    main.append(view.el);
    views.push(view);
    Promise.resolve(view.mount(view.el, ctx)).catch((error) => toast(`${view.title}: ${error.message}`, "error"));
  }
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", route);
  route();
  connect();
}

main().catch((error) => toast(`the dashboard failed to start: ${error.message}`, "error"));
