// Pipelines: list, a pipeline's DAG and run history, a run's DAG with live step states.
import { api } from "./api.js";
import { h, table, stateBadge, time, link, toast } from "./dom.js";
import { dag } from "./charts.js";

const enc = encodeURIComponent;
const DONE = ["SUCCEEDED", "FAILED", "CANCELLED"];

export async function pipelinesPage(main, ctx) {
  const data = await api("/v1/pipelines");
  main.append(h("h1", { text: "Pipelines" }), table([
    { label: "name", get: (p) => link(`#/pipelines/${enc(p.name)}`, p.name) },
    { label: "description", get: (p) => p.description },
    { label: "steps", get: (p) => String(p.steps.length), cls: "num" },
    { label: "user", get: (p) => p.user },
    { label: "created", get: (p) => time(p.created_at) },
  ], data.data, "no pipelines: define one with `miniflow pipelines create FILE`"));
}

export async function pipelinePage(main, ctx, name) {
  const p = await api(`/v1/pipelines/${enc(name)}`);
  const runs = h("div", { id: "pipeline-runs" });
  const start = h("button", { type: "button", id: "run-pipeline", text: "Run now", onclick: async () => {
    try {
      const run = await api(`/v1/pipelines/${enc(name)}/runs`, { method: "POST", body: { params: {} } });
      ctx.go(`#/pipelines/${enc(name)}/runs/${run.id}`);
    } catch (e) { toast(e.message, true); }
  } });
  main.append(h("h1", {}, `Pipeline ${p.name}`), h("p", { class: "muted", text: p.description }),
    h("div", { class: "card" }, dag(p.steps.map((st) => ({ ...st, state: "PENDING" })))), start,
    h("h2", { text: "Runs" }), runs);
  const refresh = async () => {
    const data = await api(`/v1/pipelines/${enc(name)}/runs`);
    runs.replaceChildren(table([
      { label: "run", get: (r) => link(`#/pipelines/${enc(name)}/runs/${r.id}`, String(r.id)) },
      { label: "state", get: (r) => stateBadge(r.state) },
      { label: "trigger", get: (r) => r.trigger || "api" },
      { label: "steps", get: (r) => r.steps.map((st) => `${st.name}:${st.state}`).join("  ") },
      { label: "reason", get: (r) => r.reason },
      { label: "created", get: (r) => time(r.created_at) },
      { label: "finished", get: (r) => time(r.finished_at) },
    ], [...data.data].reverse(), "no runs yet"));
  };
  await refresh();
  ctx.every(3000, refresh);
}

export async function pipelineRunPage(main, ctx, name, id) {
  const title = h("h1");
  const graph = h("div", { class: "card", id: "run-dag" });
  const steps = h("div");
  const cancel = h("button", { type: "button", class: "secondary", text: "Cancel run", onclick: async () => {
    try { await api(`/v1/pipelines/${enc(name)}/runs/${id}/cancel`, { method: "POST" }); } catch (e) { toast(e.message, true); }
  } });
  main.append(title, graph, cancel, h("h2", { text: "Steps" }), steps);
  const draw = async () => {
    const run = await api(`/v1/pipelines/${enc(name)}/runs/${id}`);
    title.replaceChildren(`Run ${run.id} of `, link(`#/pipelines/${enc(name)}`, name), " ", h("span", { id: "run-state" }, stateBadge(run.state)));
    graph.replaceChildren(dag(run.steps, (st) => st.job_id && ctx.go(`#/jobs/${st.job_id}`)));
    cancel.hidden = DONE.includes(run.state);
    steps.replaceChildren(table([
      { label: "step", get: (st) => st.name }, { label: "kind", get: (st) => st.kind },
      { label: "state", get: (st) => stateBadge(st.state) },
      { label: "job", get: (st) => (st.job_id ? link(`#/jobs/${st.job_id}`, String(st.job_id)) : "") },
      { label: "outputs", get: (st) => (Object.keys(st.outputs || {}).length ? JSON.stringify(st.outputs) : "") },
      { label: "reason", get: (st) => st.reason },
      { label: "started", get: (st) => time(st.started_at) }, { label: "finished", get: (st) => time(st.finished_at) },
    ], run.steps));
    return DONE.includes(run.state);
  };
  await draw();
  ctx.every(1000, draw);
}
