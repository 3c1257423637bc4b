// DOM helpers. Every text goes in through textContent or attributes, never as HTML,
// so names and logs (whatever they hold) are shown, not run.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") el.textContent = v;
    else if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

export function stateBadge(state) {
  return h("span", { class: "state state-" + String(state).replace(/[^A-Z_]/g, ""), text: state });
}

export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function num(v, digits = 6) {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? Number(v.toPrecision(digits)).toString() : String(v);
}

// columns: [{label, get(row) -> Node|string, cls}]
export function table(columns, rows, empty = "nothing here yet") {
  const head = h("tr", {}, columns.map((c) => h("th", { text: c.label })));
  const body = rows.length
    ? rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.cls }, c.get(r)))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "muted", text: empty }))];
  return h("table", {}, h("thead", {}, head), h("tbody", {}, body));
}

export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v ?? "")]));
}

export function link(href, text) {
  return h("a", { href, text });
}

export function toast(message, bad = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = bad ? "bad" : "";
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), bad ? 8000 : 3000);
}

// Splits a command line into arguments: spaces separate, '...' and "..." group.
export function splitArgs(text) {
  const out = [];
  let cur = null;
  let quote = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur = cur ?? "";
    } else if (/\s/.test(ch)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else cur = (cur ?? "") + ch;
  }
  if (quote) throw new Error("unclosed quote in the command");
  if (cur !== null) out.push(cur);
  return out;
}
