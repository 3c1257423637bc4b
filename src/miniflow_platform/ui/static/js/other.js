// Schedules, notebooks, batch predictions and the queue/capacity view.
import { api, ApiError } from "./api.js";
import { h, table, stateBadge, time, link, kv, toast } from "./dom.js";

export async function schedulesPage(main) {
  main.append(h("h1", { text: "Schedules" }));
  let data;
  try {
    data = await api("/v1/schedules");
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return main.append(h("p", { class: "muted", text: "this server has no schedules API" }));
    throw e;
  }
  main.append(table([
    { label: "name", get: (x) => x.name }, { label: "cron", get: (x) => `${x.cron} (${x.timezone})` },
    { label: "runs", get: (x) => x.pipeline ? `pipeline ${x.pipeline}` : x.target },
    { label: "policy", get: (x) => x.concurrency_policy }, { label: "paused", get: (x) => (x.paused ? "yes" : "no") },
    { label: "next", get: (x) => time(x.next_fire_at) }, { label: "last", get: (x) => time(x.last_scheduled_at) },
    { label: "active", get: (x) => (x.active_runs || []).join(", ") },
  ], data.data, "no schedules"));
}

export async function notebooksPage(main, ctx) {
  const holder = h("div");
  const open = async (nb) => {
    // A fresh access token, handed to the notebook proxy once; it moves it into a
    // cookie for this notebook and drops it from the address.
    const w = window.open("about:blank", "_blank", "noopener=no");
    try {
      const fresh = await api(`/v1/notebooks/${nb.id}/token`, { method: "POST" });
      const url = new URL(fresh.url, location.origin);
      url.searchParams.set("token", fresh.token);
      if (w) w.location = url.toString(); else location.assign(url.toString());
    } catch (e) { if (w) w.close(); toast(e.message, true); }
  };
  const refresh = async () => {
    const data = await api("/v1/notebooks");
    holder.replaceChildren(table([
      { label: "id", get: (x) => String(x.id) }, { label: "name", get: (x) => x.name },
      { label: "state", get: (x) => stateBadge(x.state) }, { label: "last activity", get: (x) => time(x.last_activity) },
      { label: "", get: (x) => (x.state === "RUNNING" ? h("button", { type: "button", class: "secondary", text: "Open", onclick: () => open(x) }) : "") },
    ], data.data, "no notebooks: `miniflow notebooks create`"));
  };
  main.append(h("h1", { text: "Notebooks" }), holder);
  await refresh();
  ctx.every(5000, refresh);
}

function bar(used, quota) {
  if (!quota) return h("span", { class: "muted", text: "no quota" });
  const span = h("span");
  span.style.width = `${Math.min(100, (100 * used) / quota).toFixed(1)}%`;
  return h("div", { class: "bar", title: `${used} of ${quota}` }, span);
}

export async function queuePage(main, ctx) {
  const holder = h("div");
  main.append(h("h1", { text: "Queue and capacity" }), holder);
  const refresh = async () => {
    const [usage, queued, running] = await Promise.all([api("/v1/users/me/usage"), api("/v1/jobs?state=QUEUED"), api("/v1/jobs?state=RUNNING")]);
    const c = usage.compute, d = usage.disk;
    holder.replaceChildren(
      h("div", { class: "grid" }, h("div", { class: "card", id: "usage" }, h("strong", { text: `Your usage (${usage.user})` }), kv([
        ["cpu", h("span", {}, `${c.cpu} of ${c.quota_cpu ?? "∞"} `, bar(c.cpu, c.quota_cpu))],
        ["memory", h("span", {}, `${c.memory_mb} MiB of ${c.quota_memory_mb ?? "∞"} `, bar(c.memory_mb, c.quota_memory_mb))],
        ["gpus", `${c.gpus} of ${c.quota_gpu ?? "∞"}`], ["running jobs", `${c.running_jobs} of ${c.quota_running_jobs ?? "∞"}`],
        ["disk", h("span", {}, `${(d.used_bytes / 2 ** 20).toFixed(1)} MiB of ${d.quota_bytes ? (d.quota_bytes / 2 ** 20).toFixed(0) + " MiB" : "∞"} `, bar(d.used_bytes, d.quota_bytes))],
      ]))),
      h("h2", { text: `Queued (${queued.count})` }),
      table([
        { label: "job", get: (j) => link(`#/jobs/${j.id}`, String(j.id)) }, { label: "name", get: (j) => j.name },
        { label: "priority", get: (j) => String(j.priority), cls: "num" }, { label: "reason", get: (j) => j.queue_reason || "" },
        { label: "why", get: (j) => j.queue_message }, { label: "since", get: (j) => time(j.created_at) },
      ], queued.data, "nothing waits"),
      h("h2", { text: `Running (${running.count})` }),
      table([
        { label: "job", get: (j) => link(`#/jobs/${j.id}`, String(j.id)) }, { label: "name", get: (j) => j.name },
        { label: "cpu", get: (j) => String(j.resources.cpu), cls: "num" }, { label: "memory MiB", get: (j) => String(j.resources.memory_mb), cls: "num" },
        { label: "started", get: (j) => time(j.started_at) },
      ], running.data, "nothing runs"));
  };
  await refresh();
  ctx.every(3000, refresh);
}
