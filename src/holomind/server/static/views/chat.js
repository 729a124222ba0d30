// Chat through the learning loop: memory context, the answer streamed token by token, the Q&A
// appended to the pixel network (its growth line shown, the PNG viewable).
import { fill, fmt, h, stats, throttle } from "../dom.js";
import { lineChart } from "../plot.js";

let messages, input, send, status, canvas, image, imageNote, setRecords, setRows, setBackend, context;
let socket = null;
let current = null; // the answer being streamed: {el, text}
const turns = []; // bridge/turn values, for the growth plot

function open() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat`);
  socket.onopen = () => { send.disabled = false; fill(status, "ready"); };
  socket.onclose = () => {
    send.disabled = true;
    fill(status, "disconnected, retrying…");
    setTimeout(open, 2000);
  };
  socket.onmessage = (message) => receive(JSON.parse(message.data));
}

function bubble(kind, text) {
  const el = h("div", { class: `msg ${kind}` }, text);
  messages.append(el);
  messages.scrollTop = messages.scrollHeight;
  return el;
}

function receive(data) {
  if (!current) current = { el: bubble("llm", ""), text: "" };
  if (data.type === "token") {
    current.text += data.text;
    current.el.firstChild ? (current.el.firstChild.textContent = current.text) : current.el.append(current.text);
  } else if (data.type === "done") {
    fill(current.el, data.answer || "(no answer)");
    current.el.append(h("span", { class: "meta" },
      data.record_id ? `💾 record #${data.record_id} · ` : "",
      h("span", { class: "growth" }, data.growth),
      ` · ${fmt(data.completion_tokens)} tokens in ${fmt(data.generation_s)} s`));
    current.el.classList.add("done");
    current = null;
    send.disabled = false;
    fill(status, "ready");
  } else if (data.type === "error") {
    fill(current.el, h("span", { class: "bad" }, `error: ${data.error}`));
    current = null;
    send.disabled = false;
    fill(status, "ready");
  }
}

function ask(event) {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  bubble("you", text);
  current = { el: bubble("llm", ""), text: "" };
  socket.send(JSON.stringify({ message: text }));
  input.value = "";
  send.disabled = true;
  fill(status, "thinking…");
}

function plot() {
  lineChart(canvas, [{ name: "network rows", points: turns.map((t, i) => [i + 1, t.rows_after]) }],
    { xLabel: "turn (since the server started)", yLabel: "rows", empty: "no turns yet" });
}

// Counts and the picture follow the file: after a turn, a taught record or an import.
const refresh = throttle((ctx) => ctx.act(async () => {
  const stats = await ctx.api("/api/memory");
  setRecords(fmt(stats.records));
  setRows(fmt(stats.height));
  if (!stats.records) { fill(imageNote, "The network is empty: ask something."); image.hidden = true; return; }
  image.hidden = false;
  image.src = `/api/memory/network.png?v=${stats.bytes}`;
  const records = stats.records === 1 ? "1 record" : `${fmt(stats.records)} records`;
  const page = stats.pages > 1 ? `its newest page (${fmt(stats.pages)} pages)` : "the PNG itself";
  fill(imageNote, `${records} in ${stats.path}: ${page}, as an image viewer shows it.`);
}), 2000);

export default {
  id: "chat",
  title: "Chat",
  order: 10,
  keys: ["bridge/turn", "memory/appended"],
  async mount(el, ctx) {
    messages = h("div", { class: "messages", id: "chat-messages" });
    input = h("textarea", { id: "chat-input", placeholder: "Ask anything; every answer is remembered.", rows: 2 });
    send = h("button", { class: "primary", id: "chat-send", type: "submit", disabled: true }, "Send");
    status = h("span", { class: "muted" }, "connecting…");
    input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) ask(e); });
    canvas = h("canvas", { class: "plot", id: "chat-growth" });
    image = h("img", { alt: "the pixel network", id: "network-image", hidden: true });
    imageNote = h("p", { class: "muted" });
    const [figures, set] = stats(["records", "rows", "backend"], { rows: "rows (pixels high)", backend: "backend · model" });
    setRecords = set.records; setRows = set.rows; setBackend = set.backend;
    el.append(
      h("div", { class: "card" }, h("h2", {}, "Chat"), messages,
        h("form", { onsubmit: ask }, input, send, status)),
      h("div", { class: "card" }, h("h2", {}, "Pixel network"),
        h("div", { class: "stats" }, figures),
        h("h2", {}, "Growth"), canvas),
      h("div", { class: "card wide" }, h("h2", {}, "The network as a picture"), imageNote,
        h("div", { class: "netimg" }, image)),
    );
    context = ctx;
    const info = await ctx.api("/api/chat");
    setBackend(`${info.backend}${info.model ? " · " + info.model : ""}`);
    turns.splice(0, turns.length, ...info.turns);
    refresh(ctx);
    open();
  },
  event(event) {
    if (event.key === "bridge/turn" && !event.snapshot) {
      turns.push(event.value);
      plot();
    } else if (event.key === "memory/appended" && !event.snapshot && context) {
      refresh(context);
    }
  },
  show() { plot(); },
};
