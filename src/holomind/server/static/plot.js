// Plots for the dashboard, drawn on <canvas> with no library: line charts and the radial
// cartridge graph. Each function sizes the canvas to its box and the screen's pixel ratio.

const INK = "#d7dce5";
const MUTED = "#7d8799";
const GRID = "#2a3140";
export const COLORS = ["#5aa9ff", "#ffb454", "#7bd88f", "#ff6b8b", "#c792ea", "#4dd0e1", "#f78c6c"];

function fit(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 260;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

function niceTicks(lo, hi, count) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= count) || 10 * step;
  const ticks = [];
  for (let t = Math.ceil(lo / unit) * unit; t <= hi + unit * 1e-9; t += unit) ticks.push(t);
  return ticks;
}

function label(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (abs >= 1e4) return (value / 1e3).toFixed(0) + "k";
  if (abs >= 100 || Number.isInteger(value)) return value.toFixed(0);
  return value.toPrecision(3);
}

// series: [{name, points: [[x, y], ...], color?}]; options: {xLabel, yLabel, threshold, empty}
export function lineChart(canvas, series, options = {}) {
  const { ctx, width, height } = fit(canvas);
  const pad = { left: 56, right: 14, top: 22, bottom: 34 };
  const points = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  canvas.dataset.points = String(points.length);
  ctx.font = "12px system-ui, sans-serif";
  if (!points.length) {
    ctx.fillStyle = MUTED;
    ctx.textAlign = "center";
    ctx.fillText(options.empty || "no data yet", width / 2, height / 2);
    return;
  }
  let [x0, x1] = [Math.min(...points.map((p) => p[0])), Math.max(...points.map((p) => p[0]))];
  let ys = points.map((p) => p[1]);
  if (Number.isFinite(options.threshold)) ys = ys.concat([options.threshold]);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (options.zero) y0 = Math.min(0, y0);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const margin = (y1 - y0) * 0.05;
  y0 -= options.zero && y0 === 0 ? 0 : margin;
  y1 += margin;
  const X = (x) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const Y = (y) => height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);

  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  for (const t of niceTicks(y0, y1, 5)) {
    ctx.beginPath(); ctx.moveTo(pad.left, Y(t)); ctx.lineTo(width - pad.right, Y(t)); ctx.stroke();
    ctx.fillText(label(t), pad.left - 6, Y(t) + 4);
  }
  ctx.textAlign = "center";
  for (const t of niceTicks(x0, x1, 6)) ctx.fillText(label(t), X(t), height - pad.bottom + 16);
  if (options.xLabel) ctx.fillText(options.xLabel, (width + pad.left) / 2, height - 4);
  if (options.yLabel) {
    ctx.save(); ctx.translate(12, (height - pad.bottom + pad.top) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(options.yLabel, 0, 0); ctx.restore();
  }
  if (Number.isFinite(options.threshold)) {
    ctx.strokeStyle = "#ff6b6b"; ctx.setLineDash([6, 5]);
    ctx.beginPath(); ctx.moveTo(pad.left, Y(options.threshold)); ctx.lineTo(width - pad.right, Y(options.threshold)); ctx.stroke();
    ctx.setLineDash([]);
  }
  let legendX = pad.left + 4;
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach(([x, y], j) => (j ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    if (pts.length === 1) { ctx.fillStyle = color; ctx.fillRect(X(pts[0][0]) - 2, Y(pts[0][1]) - 2, 4, 4); }
    if (series.length > 1 || s.name) {
      ctx.fillStyle = color; ctx.textAlign = "left";
      ctx.fillRect(legendX, 6, 10, 10);
      ctx.fillStyle = INK; ctx.fillText(s.name, legendX + 14, 15);
      legendX += 24 + ctx.measureText(s.name).width;
    }
  });
}

function maturityColor(m) {
  const t = Math.max(0, Math.min(1, m || 0));
  return `hsl(${Math.round(30 + 100 * t)}, 75%, 55%)`; // orange (new) → green (settled)
}

// graph: {domains: [{id, name}], cartridges: [{id, domain, parent, strength, maturity, frozen, activity}]}
// Returns the drawn nodes ({x, y, r, item}) so the caller can find what the pointer is over.
export function radialGraph(canvas, graph) {
  const { ctx, width, height } = fit(canvas);
  const cx = width / 2, cy = height / 2, R = Math.min(width, height) / 2 - 34;
  const nodes = [];
  ctx.font = "12px system-ui, sans-serif";
  canvas.dataset.nodes = String(graph.cartridges.length);
  if (!graph.cartridges.length) {
    ctx.fillStyle = MUTED; ctx.textAlign = "center";
    ctx.fillText(graph.empty || "no cartridges yet", cx, cy);
    return nodes;
  }
  const byDomain = new Map(graph.domains.map((d) => [d.id, []]));
  for (const c of graph.cartridges) {
    if (!byDomain.has(c.domain)) byDomain.set(c.domain, []);
    byDomain.get(c.domain).push(c);
  }
  const domains = [...byDomain.keys()].sort((a, b) => a - b);
  const small = graph.cartridges.length > 200;
  const weight = (d) => Math.max(byDomain.get(d).length, 0.5); // a domain with no cartridge yet still shows
  const weights = domains.reduce((sum, d) => sum + weight(d), 0);
  const where = new Map();
  let angle = -Math.PI / 2;
  const domainAt = [];
  domains.forEach((d, i) => {
    const members = byDomain.get(d);
    const share = (2 * Math.PI * weight(d)) / weights;
    const mid = angle + share / 2;
    domainAt.push({ d, mid, color: COLORS[i % COLORS.length], name: (graph.domains.find((x) => x.id === d) || {}).name || `domain ${d}` });
    members.forEach((c, j) => {
      const a = angle + (share * (j + 0.5)) / members.length;
      const ring = R * (0.72 + (small ? 0.22 * ((j % 5) / 4) : 0.2 * (j % 2)));
      where.set(c.id, { x: cx + ring * Math.cos(a), y: cy + ring * Math.sin(a), a, d: i });
    });
    angle += share;
  });
  // stem → domain spokes and domain → cartridge edges, width by Hebbian strength
  domainAt.forEach(({ d, mid, color }) => {
    const dx = cx + R * 0.34 * Math.cos(mid), dy = cy + R * 0.34 * Math.sin(mid);
    ctx.strokeStyle = GRID; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(dx, dy); ctx.stroke();
    ctx.strokeStyle = color; ctx.globalAlpha = 0.45;
    for (const c of byDomain.get(d)) {
      const p = where.get(c.id);
      ctx.lineWidth = Math.max(0.5, 2 * (c.strength || 1));
      ctx.beginPath(); ctx.moveTo(dx, dy); ctx.lineTo(p.x, p.y); ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = color;
    ctx.beginPath(); ctx.arc(dx, dy, 7, 0, 2 * Math.PI); ctx.fill();
    nodes.push({ x: dx, y: dy, r: 9, item: { kind: "domain", id: d, name: domainAt.find((x) => x.d === d).name } });
  });
  // lineage: a curve from parent to child, bowed toward the centre
  ctx.strokeStyle = "#c792ea"; ctx.lineWidth = 1.5;
  for (const c of graph.cartridges) {
    if (c.parent === null || c.parent === undefined || !where.has(c.parent)) continue;
    const a = where.get(c.parent), b = where.get(c.id);
    ctx.beginPath(); ctx.moveTo(a.x, a.y);
    ctx.quadraticCurveTo((a.x + b.x) / 2 * 0.6 + cx * 0.4, (a.y + b.y) / 2 * 0.6 + cy * 0.4, b.x, b.y);
    ctx.stroke();
  }
  // cartridges: size by strength, colour by maturity, ring when frozen, glow by recent activity
  for (const c of graph.cartridges) {
    const p = where.get(c.id);
    const r = small ? 2.5 : Math.max(3, Math.min(12, 6 * (c.strength || 1)));
    if (c.activity > 0) {
      ctx.fillStyle = `rgba(255, 240, 120, ${Math.min(0.8, 0.25 + c.activity)})`;
      ctx.beginPath(); ctx.arc(p.x, p.y, r + 4 + 6 * Math.min(1, c.activity), 0, 2 * Math.PI); ctx.fill();
    }
    ctx.fillStyle = maturityColor(c.maturity);
    ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI); ctx.fill();
    if (c.frozen) { ctx.strokeStyle = "#5aa9ff"; ctx.lineWidth = 2; ctx.stroke(); }
    nodes.push({ x: p.x, y: p.y, r: r + 2, item: { kind: "cartridge", ...c } });
  }
  // the stem in the middle, domain names outside the ring
  ctx.fillStyle = "#e6e6e6";
  ctx.beginPath(); ctx.arc(cx, cy, 19, 0, 2 * Math.PI); ctx.fill();
  ctx.fillStyle = "#11151c"; ctx.textAlign = "center"; ctx.fillText("stem", cx, cy + 4);
  nodes.push({ x: cx, y: cy, r: 19, item: { kind: "stem" } });
  ctx.fillStyle = INK;
  for (const { mid, name } of domainAt) {
    const lx = cx + (R + 18) * Math.cos(mid), ly = cy + (R + 18) * Math.sin(mid);
    ctx.textAlign = Math.cos(mid) > 0.3 ? "left" : Math.cos(mid) < -0.3 ? "right" : "center";
    ctx.fillText(name, lx, ly + 4);
  }
  return nodes;
}

// The node under (x, y) in canvas pixels, or null.
export function nodeAt(nodes, x, y) {
  let best = null, bestDist = Infinity;
  for (const n of nodes) {
    const d = Math.hypot(n.x - x, n.y - y);
    if (d <= n.r + 3 && d < bestDist) { best = n; bestDist = d; }
  }
  return best;
}

// A spike raster: chunks [{t0_s, t1_s, neurons, i: [...], t_ms: [...]}] (the `neuro/spikes` values),
// one dot per spike, time across, neuron down; marks [{t_s, color}] tick the time axis
// (modulations). Shows the last `options.window` seconds.
export function spikeRaster(canvas, chunks, options = {}) {
  const { ctx, width, height } = fit(canvas);
  const pad = { left: 56, right: 14, top: 14, bottom: 34 };
  ctx.font = "12px system-ui, sans-serif";
  const spikes = chunks.reduce((n, c) => n + c.i.length, 0);
  canvas.dataset.points = String(spikes);
  if (!chunks.length) {
    ctx.fillStyle = MUTED; ctx.textAlign = "center";
    ctx.fillText(options.empty || "no spikes yet", width / 2, height / 2);
    return;
  }
  const t1 = Math.max(...chunks.map((c) => c.t1_s));
  const t0 = Math.max(Math.min(...chunks.map((c) => c.t0_s)), t1 - (options.window || 2));
  const n = Math.max(...chunks.map((c) => c.neurons), 1);
  const X = (t) => pad.left + ((t - t0) / (t1 - t0 || 1)) * (width - pad.left - pad.right);
  const Y = (i) => pad.top + ((i + 0.5) / n) * (height - pad.top - pad.bottom);
  ctx.strokeStyle = GRID; ctx.fillStyle = MUTED; ctx.textAlign = "right";
  for (const t of niceTicks(0, n - 1, 4)) ctx.fillText(label(t), pad.left - 6, Y(t) + 4);
  ctx.textAlign = "center";
  for (const t of niceTicks(t0, t1, 6)) {
    ctx.beginPath(); ctx.moveTo(X(t), pad.top); ctx.lineTo(X(t), height - pad.bottom); ctx.stroke();
    ctx.fillText(label(t), X(t), height - pad.bottom + 16);
  }
  ctx.fillText(options.xLabel || "time (s)", (width + pad.left) / 2, height - 4);
  ctx.save(); ctx.translate(12, (height - pad.bottom + pad.top) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(options.yLabel || "neuron", 0, 0); ctx.restore();
  ctx.fillStyle = COLORS[0];
  for (const c of chunks) {
    if (c.t1_s < t0) continue;
    for (let k = 0; k < c.i.length; k++) {
      const t = c.t_ms[k] / 1000;
      if (t >= t0) ctx.fillRect(X(t) - 0.75, Y(c.i[k]) - 0.75, 1.5, 1.5);
    }
  }
  for (const m of options.marks || []) {
    if (m.t_s < t0 || m.t_s > t1) continue;
    ctx.fillStyle = m.color; ctx.fillRect(X(m.t_s) - 1, height - pad.bottom - 8, 2, 8);
  }
}
