// The JSON API with the signed-in token. The token lives in this tab's sessionStorage
// and travels only in the Authorization header (never in a URL).
const KEY = "miniflow.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const t = token.get();
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

async function failure(r) {
  let message = r.status + " " + r.statusText;
  try {
    const body = await r.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (_) { /* not JSON */ }
  if (r.status === 401) window.dispatchEvent(new CustomEvent("unauthorized"));
  return new ApiError(r.status, message);
}

export async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: headers(options.headers) };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  if (!r.ok) throw await failure(r);
  if (r.status === 204) return null;
  const type = r.headers.get("content-type") || "";
  return type.includes("json") ? r.json() : r.text();
}

export function q(params) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") s.set(k, v);
  const text = s.toString();
  return text ? "?" + text : "";
}

// Streams a text endpoint (e.g. logs?follow=true), calling onText for each chunk,
// until it ends or `signal` aborts.
export async function streamText(path, onText, signal) {
  const r = await fetch(path, { headers: headers(), signal });
  if (!r.ok) throw await failure(r);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    onText(decoder.decode(value, { stream: true }));
  }
}
