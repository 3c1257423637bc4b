// Experiments: runs table with filter/sort, a run's metric charts, side-by-side comparison.
import { api, q } from "./api.js";
import { h, table, stateBadge, time, link, kv, num, toast } from "./dom.js";
import { lineChart, legend } from "./charts.js";

const enc = encodeURIComponent;

export async function experimentsPage(main) {
  const data = await api("/v1/experiments");
  main.append(h("h1", { text: "Experiments" }), table([
    { label: "name", get: (e) => link(`#/experiments/${enc(e.name)}`, e.name) },
    { label: "runs", get: (e) => String(e.runs), cls: "num" },
    { label: "description", get: (e) => e.description },
    { label: "created", get: (e) => time(e.created_at) },
  ], data.data, "no experiments yet: every job gets a run in 'Default'"));
}

export async function experimentPage(main, ctx, name) {
  const filter = h("input", { id: "runs-filter", class: "wide", placeholder: "metrics.auc > 0.7 and params.optimizer = 'ftrl'", value: ctx.state.filter || "" });
  const order = h("input", { id: "runs-order", placeholder: "metrics.auc desc", value: ctx.state.order || "" });
  const holder = h("div", { id: "runs-table" });
  const chosen = new Set();
  const compare = h("button", { type: "button", id: "compare-runs", text: "Compare selected", disabled: true,
    onclick: () => ctx.go(`#/compare/${[...chosen].join(",")}`) });
  const load = async () => {
    ctx.state.filter = filter.value; ctx.state.order = order.value;
    try {
      const data = await api(`/v1/experiments/${enc(name)}/runs` + q({ filter: filter.value, order_by: order.value }));
      const metrics = [...new Set(data.data.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 8);
      holder.replaceChildren(table([
        { label: "", get: (r) => h("input", { type: "checkbox", "data-run": r.id, checked: chosen.has(r.id), onchange: (ev) => {
          ev.target.checked ? chosen.add(r.id) : chosen.delete(r.id);
          compare.disabled = chosen.size < 1;
        } }) },
        { label: "run", get: (r) => link(`#/runs/${r.id}`, String(r.id)) },
        { label: "name", get: (r) => r.name },
        { label: "status", get: (r) => stateBadge(r.status) },
        { label: "job", get: (r) => (r.job_id ? link(`#/jobs/${r.job_id}`, String(r.job_id)) : "") },
        ...metrics.map((m) => ({ label: m, get: (r) => num(r.metrics[m]), cls: "num" })),
        { label: "params", get: (r) => Object.entries(r.params).slice(0, 6).map(([k, v]) => `${k}=${v}`).join(" ") },
        { label: "created", get: (r) => time(r.created_at) },
      ], data.data, "no runs match"));
    } catch (e) {
      holder.replaceChildren(h("p", { class: "error", id: "runs-error", text: e.message }));
    }
  };
  const form = h("form", { class: "row card" }, h("label", {}, "Filter", filter), h("label", {}, "Order by", order),
    h("button", { type: "submit", id: "runs-search", text: "Search" }), compare);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  main.append(h("h1", {}, `Experiment ${name}`), form, holder);
  await load();
}

async function histories(runIds, key) {
  return Promise.all(runIds.map((id) => api(`/v1/runs/${id}/metrics/${key.split("/").map(enc).join("/")}`)
    .then((r) => r.data).catch(() => [])));
}

export async function runPage(main, ctx, id) {
  const run = await api(`/v1/runs/${id}`);
  const charts = h("div", { class: "grid", id: "metric-charts" });
  const files = h("div");
  main.append(h("h1", {}, `Run ${run.id} `, stateBadge(run.status)),
    h("div", { class: "grid" },
      h("div", { class: "card" }, kv([["experiment", link(`#/experiments/${enc(run.experiment)}`, run.experiment)], ["name", run.name],
        ["job", run.job_id ? link(`#/jobs/${run.job_id}`, String(run.job_id)) : "none"], ["created", time(run.created_at)],
        ["finished", time(run.finished_at)], ["ingestion", run.ingest_note || ""]])),
      h("div", { class: "card" }, h("strong", { text: "Params" }), kv(Object.entries(run.params))),
      h("div", { class: "card" }, h("strong", { text: "Tags" }), kv(Object.entries(run.tags))),
      h("div", { class: "card" }, h("strong", { text: "Metrics (latest)" }), kv(Object.entries(run.metrics).map(([k, v]) => [k, num(v)])))),
    h("h2", { text: "Metric charts" }), charts, h("h2", { text: "Artifacts" }), files);
  const keys = Object.keys(run.metrics).slice(0, 12);
  for (const key of keys) {
    const [points] = await histories([run.id], key);
    charts.append(h("div", { class: "card", "data-metric": key }, lineChart([{ name: key, points }], { title: key })));
  }
  if (!keys.length) charts.append(h("p", { class: "muted", text: "no metrics logged" }));
  const list = (await api(`/v1/runs/${id}/artifacts`)).files;
  files.replaceChildren(list.length ? h("ul", {}, list.slice(0, 200).map((f) => h("li", { text: f }))) : h("p", { class: "muted", text: "none" }));
}

export async function comparePage(main, ctx, ids) {
  const data = await api(`/v1/runs/compare` + q({ ids }));
  const runs = data.runs;
  const cols = [{ label: "", get: (r) => r.field }, ...runs.map((run, i) => ({ label: `run ${run.id}`, get: (r) => r.values[i], cls: "num" }))];
  const rows = [
    { field: "name", values: runs.map((r) => r.name) },
    { field: "status", values: runs.map((r) => r.status) },
    ...Object.entries(data.params).map(([k, v]) => ({ field: `params.${k}`, values: v.map((x) => x ?? "–") })),
    ...Object.entries(data.metrics).map(([k, v]) => ({ field: `metrics.${k}`, values: v.map((x) => (x === null ? "–" : num(x))) })),
  ];
  const select = h("select", { id: "compare-metric" }, Object.keys(data.metrics).map((k) => h("option", { value: k, text: k })));
  const chart = h("div", { class: "card", id: "compare-chart" });
  const draw = async () => {
    if (!select.value) return chart.replaceChildren(h("p", { class: "muted", text: "no metrics" }));
    const all = await histories(runs.map((r) => r.id), select.value);
    const series = runs.map((r, i) => ({ name: `run ${r.id}`, points: all[i] }));
    chart.replaceChildren(lineChart(series, { width: 760, height: 300, title: select.value }), legend(series.map((x) => x.name)));
  };
  select.addEventListener("change", () => draw().catch((e) => toast(e.message, true)));
  main.append(h("h1", { text: `Compare runs ${runs.map((r) => r.id).join(", ")}` }), h("div", { id: "compare-table" }, table(cols, rows)),
    h("h2", {}, "Metric ", select), chart);
  await draw();
}
