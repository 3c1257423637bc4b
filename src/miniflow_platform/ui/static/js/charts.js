// SVG drawings: a line chart of metric series over steps, and a pipeline's DAG.
import { h, s, num } from "./dom.js";

export const COLORS = ["#2357c6", "#e8710a", "#1e8e3e", "#c5221f", "#9334e6", "#12a4af", "#b58100", "#5f6368"];

function ticks(lo, hi, n = 5) {
  if (lo === hi) return [lo];
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const mult = [1, 2, 5, 10].find((m) => (hi - lo) / (step * m) <= n) || 10;
  const d = step * mult;
  const out = [];
  for (let v = Math.ceil(lo / d) * d; v <= hi + d * 1e-9; v += d) out.push(Number(v.toPrecision(12)));
  return out;
}

// series: [{name, points: [{step, value}]}]
export function lineChart(series, { width = 560, height = 260, title = "" } = {}) {
  const pad = { l: 56, r: 12, t: 22, b: 30 };
  const all = series.flatMap((x) => x.points);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img",
    "aria-label": title || "metric chart", "data-points": all.length });
  if (!all.length) {
    svg.append(s("text", { x: 10, y: 20, text: "no points" }));
    return svg;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p.step)), Math.max(...all.map((p) => p.step))];
  let [y0, y1] = [Math.min(...all.map((p) => p.value)), Math.max(...all.map((p) => p.value))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { const e = Math.abs(y0) * 0.05 || 1; y0 -= e; y1 += e; }
  const X = (v) => pad.l + ((v - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (v) => height - pad.b - ((v - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  if (title) svg.append(s("text", { x: pad.l, y: 14, text: title }));
  for (const t of ticks(y0, y1)) {
    svg.append(s("line", { class: "gridline", x1: pad.l, x2: width - pad.r, y1: Y(t), y2: Y(t) }));
    svg.append(s("text", { x: pad.l - 6, y: Y(t) + 4, "text-anchor": "end", text: num(t, 4) }));
  }
  for (const t of ticks(x0, x1).filter(Number.isInteger)) {
    svg.append(s("text", { x: X(t), y: height - pad.b + 16, "text-anchor": "middle", text: String(t) }));
  }
  svg.append(s("line", { class: "axis", x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b }));
  svg.append(s("line", { class: "axis", x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b }));
  series.forEach((ser, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...ser.points].sort((a, b) => a.step - b.step);
    svg.append(s("polyline", { class: "series", stroke: color, "data-series": ser.name,
      points: pts.map((p) => `${X(p.step).toFixed(1)},${Y(p.value).toFixed(1)}`).join(" ") }));
    for (const p of pts) {
      svg.append(s("circle", { cx: X(p.step), cy: Y(p.value), r: 2.5, fill: color },
        s("title", { text: `${ser.name} step ${p.step}: ${p.value}` })));
    }
  });
  return svg;
}

export function legend(names) {
  return h("div", { class: "legend" }, names.map((n, i) => {
    const sw = h("span", { class: "sw" });
    sw.style.background = COLORS[i % COLORS.length];
    return h("span", {}, sw, n);
  }));
}

// steps: [{name, depends_on, state, kind}] -> layered left-to-right drawing
export function dag(steps, onClick) {
  const byName = new Map(steps.map((st) => [st.name, st]));
  const depth = new Map();
  const level = (n, seen = new Set()) => {
    if (depth.has(n)) return depth.get(n);
    if (seen.has(n)) return 0;
    seen.add(n);
    const deps = (byName.get(n)?.depends_on || []).filter((d) => byName.has(d));
    const v = deps.length ? 1 + Math.max(...deps.map((d) => level(d, seen))) : 0;
    depth.set(n, v);
    return v;
  };
  steps.forEach((st) => level(st.name));
  const columns = [];
  for (const st of steps) (columns[depth.get(st.name)] ||= []).push(st);
  const W = 150, H = 44, GX = 60, GY = 18;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((st, y) => pos.set(st.name, { x: 10 + x * (W + GX), y: 10 + y * (H + GY) })));
  const width = 20 + columns.length * (W + GX) - GX;
  const height = 20 + Math.max(...columns.map((c) => c.length)) * (H + GY) - GY;
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "dag", role: "img", "aria-label": "pipeline DAG" });
  for (const st of steps) {
    for (const d of st.depends_on || []) {
      const a = pos.get(d), b = pos.get(st.name);
      if (!a || !b) continue;
      const [x1, y1, x2, y2] = [a.x + W, a.y + H / 2, b.x, b.y + H / 2];
      svg.append(s("path", { class: "edge", d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}` }));
    }
  }
  for (const st of steps) {
    const p = pos.get(st.name);
    const state = String(st.state || "PENDING").replace(/[^A-Z_]/g, "");
    const g = s("g", { class: `node node-${state}`, transform: `translate(${p.x},${p.y})`,
      "data-step": st.name, "data-state": state },
      s("rect", { width: W, height: H, rx: 6 }),
      s("text", { x: 8, y: 17, text: st.name.length > 20 ? st.name.slice(0, 19) + "…" : st.name }),
      s("text", { x: 8, y: 34, text: `${st.kind || ""} · ${state}` }),
      s("title", { text: `${st.name}: ${state}${st.reason ? " — " + st.reason : ""}` }));
    if (onClick) g.addEventListener("click", () => onClick(st));
    svg.append(g);
  }
  return svg;
}
