// Jobs: list with filters, submit form, detail with live-following logs.
import { api, q, streamText } from "./api.js";
import { h, table, stateBadge, time, kv, link, toast, splitArgs } from "./dom.js";

const STATES = ["", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "OOM_KILLED"];

export async function jobsPage(main, ctx, prefix = "/v1/jobs", hash = "#/jobs", title = "Jobs") {
  const state = h("select", { id: "job-state", "aria-label": "state" }, STATES.map((s) => h("option", { value: s, text: s || "any state" })));
  const name = h("input", { id: "job-filter", placeholder: "name contains…" });
  const holder = h("div", { id: "jobs-table" });
  const refresh = async () => {
    const data = await api(prefix + q({ state: state.value }));
    const needle = name.value.trim().toLowerCase();
    const rows = data.data.filter((j) => !needle || j.name.toLowerCase().includes(needle)).reverse();
    holder.replaceChildren(table([
      { label: "id", get: (j) => link(`${hash}/${j.id}`, String(j.id)) },
      { label: "name", get: (j) => j.name },
      { label: "state", get: (j) => stateBadge(j.state) },
      { label: "user", get: (j) => j.user },
      { label: "cpu", get: (j) => String(j.resources.cpu), cls: "num" },
      { label: "memory MiB", get: (j) => String(j.resources.memory_mb), cls: "num" },
      { label: "waiting because", get: (j) => j.queue_message || "" },
      { label: "created", get: (j) => time(j.created_at) },
    ], rows, "no jobs"));
  };
  state.addEventListener("change", refresh);
  name.addEventListener("input", refresh);
  main.append(h("h1", { text: title }), h("div", { class: "row" }, h("label", {}, "State", state), h("label", {}, "Name", name)));
  if (prefix === "/v1/jobs") main.append(submitForm(ctx));
  main.append(holder);
  await refresh();
  ctx.every(3000, refresh);
}

function submitForm(ctx) {
  const command = h("input", { id: "submit-command", class: "wide", placeholder: "python train.py --epochs 3", required: true });
  const name = h("input", { id: "submit-name", placeholder: "name" });
  const experiment = h("input", { id: "submit-experiment", placeholder: "Default" });
  const cpu = h("input", { id: "submit-cpu", type: "number", step: "0.1", min: "0.1", value: "1" });
  const memory = h("input", { id: "submit-memory", type: "number", min: "1", placeholder: "server default" });
  const form = h("form", { class: "card", id: "submit-form" },
    h("h2", { text: "Submit a job" }),
    h("div", { class: "row" },
      h("label", {}, "Command (runs without a shell)", command), h("label", {}, "Name", name),
      h("label", {}, "Experiment", experiment), h("label", {}, "CPU", cpu), h("label", {}, "Memory MiB", memory),
      h("button", { type: "submit", id: "submit-button", text: "Submit" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { command: splitArgs(command.value), name: name.value, resources: { cpu: Number(cpu.value) } };
      if (memory.value) body.resources.memory_mb = Number(memory.value);
      if (experiment.value) body.experiment = experiment.value;
      const job = await api("/v1/jobs", { method: "POST", body });
      toast(`job ${job.id} submitted`);
      ctx.go(`#/jobs/${job.id}`);
    } catch (e) {
      toast(e.message, true);
    }
  });
  return form;
}

export async function jobPage(main, ctx, id, prefix = "/v1/jobs") {
  const job = await api(`${prefix}/${id}`);
  const head = h("div");
  const logs = h("pre", { class: "log", id: "job-logs" });
  const following = h("span", { class: "muted", id: "log-status" });
  const cancel = h("button", { type: "button", class: "secondary", id: "cancel-job", text: "Cancel",
    onclick: async () => {
      try { await api(`${prefix}/${id}/cancel`, { method: "POST" }); toast("cancelled"); } catch (e) { toast(e.message, true); }
    } });
  const artifacts = h("div");
  const tracking = h("div");
  main.append(h("h1", {}, `Job ${job.id} `, job.name ? `“${job.name}”` : ""), head,
    h("h2", {}, "Logs ", following), logs, h("h2", { text: "Artifacts" }), artifacts, tracking);
  const draw = (j) => {
    cancel.hidden = !["QUEUED", "RUNNING"].includes(j.state);
    const history = [["created", time(j.created_at)]];
    for (const a of j.attempts) history.push([`attempt ${a.attempt}`, `${a.state} ${a.reason || ""} (${time(a.started_at)} → ${time(a.finished_at)})`]);
    if (j.started_at) history.push([`attempt ${j.attempt} started`, time(j.started_at)]);
    if (j.finished_at) history.push([j.state.toLowerCase(), time(j.finished_at)]);
    head.replaceChildren(h("div", { class: "grid" },
      h("div", { class: "card" }, kv([
        ["state", h("span", { id: "job-state-badge" }, stateBadge(j.state))], ["reason", j.reason || j.queue_message],
        ["exit code", j.exit_code ?? ""], ["command", j.command.join(" ")], ["user", j.user],
        ["experiment", j.details.experiment || (j.kind === "training" ? "Default" : "")],
      ]), cancel),
      h("div", { class: "card" }, h("strong", { text: "Resources" }), kv([
        ["cpu", String(j.resources.cpu)], ["memory", `${j.resources.memory_mb} MiB`],
        ["gpus", j.resources.gpu_devices.join(", ") || String(j.resources.gpu)], ["pids", String(j.resources.pids ?? "")],
        ["isolation", j.isolation], ["priority", String(j.priority)], ["timeout", j.timeout_s ? `${j.timeout_s} s` : "none"],
      ])),
      h("div", { class: "card", id: "state-history" }, h("strong", { text: "State history" }), kv(history))));
  };
  draw(job);
  const loadArtifacts = async () => {
    const files = (await api(`${prefix}/${id}/artifacts`)).files;
    artifacts.replaceChildren(files.length ? h("ul", {}, files.slice(0, 200).map((f) => h("li", { text: f }))) : h("p", { class: "muted", text: "none yet" }));
  };
  await loadArtifacts();
  if (job.kind === "training") {
    const exp = job.details.experiment || "Default";
    api(`/v1/experiments/${encodeURIComponent(exp)}/runs` + q({ filter: `run.job_id = ${job.id}` }))
      .then((r) => r.data.length && tracking.replaceChildren(h("h2", { text: "Tracking" }), link(`#/runs/${r.data[0].id}`, `run ${r.data[0].id} in ${exp}`)))
      .catch(() => {});
  }
  following.textContent = "(following…)";
  streamText(`${prefix}/${id}/logs?follow=true`, (t) => {
    const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
    logs.append(document.createTextNode(t));
    if (atEnd) logs.scrollTop = logs.scrollHeight;
  }, ctx.signal).then(() => (following.textContent = "(ended)"), (e) => {
    if (e.name !== "AbortError") following.textContent = `(${e.message})`;
  });
  ctx.every(2000, async () => {
    const j = await api(`${prefix}/${id}`);
    draw(j);
    const ended = ["SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "OOM_KILLED"].includes(j.state);
    if (ended) await loadArtifacts();
    return ended;
  });
}
