// The queue and capacity view: GET /v1/capacity (the numbers the scheduler decides with),
// the caller's disk use, and the queued and running jobs. Admins see every user.
import { api } from "./api.js";
import { h, table, time, link, kv } from "./dom.js";

const fmt = (v) => (v === null || v === undefined ? "∞" : String(Math.round(v * 1000) / 1000));

function bar(used, total, id) {
  if (!total) return h("span", { class: "muted", text: total === 0 ? "none" : "no limit" });
  const span = h("span");
  span.style.width = `${Math.min(100, (100 * used) / total).toFixed(1)}%`;
  return h("div", { class: "bar", id, title: `${used} of ${total}` }, span);
}

function amount(used, total, unit = "", id = undefined) {
  return h("span", {}, `${fmt(used)}${unit} of ${fmt(total)}${unit} `, bar(used, total, id));
}

function reasons(q) {
  const parts = Object.entries(q.by_reason).map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(", ") : "";
}

export async function queuePage(main, ctx) {
  const holder = h("div");
  main.append(h("h1", { text: "Queue and capacity" }), holder);
  const refresh = async () => {
    const [cap, usage, queued, running] = await Promise.all([
      api("/v1/capacity"), api("/v1/users/me/usage"), api("/v1/jobs?state=QUEUED"), api("/v1/jobs?state=RUNNING"),
    ]);
    const c = cap.capacity, quota = cap.quota, d = usage.disk;
    const me = cap.users.find((u) => u.user === usage.user) || cap.users[0];
    const server = h("div", { class: "card", id: "server-capacity" }, h("strong", { text: "Server" }), kv([
      ["cpu", amount(cap.used.cpu, c.cpu, "", "server-cpu")],
      ["memory", amount(cap.used.memory_mb, c.memory_mb, " MiB", "server-memory")],
      ["gpus", h("span", {}, amount(cap.used.gpus, c.gpus, "", "server-gpus"), c.free_gpu_devices.length ? ` free: ${c.free_gpu_devices.join(", ")}` : "")],
      ["queue", `${cap.queue.queued_jobs} queued${reasons(cap.queue) ? ` (${reasons(cap.queue)})` : ""}, ${cap.queue.running_jobs} running, ${cap.queue.notebooks} notebooks, ${cap.queue.service_generations} model servers`],
    ]));
    const mine = h("div", { class: "card", id: "usage" }, h("strong", { text: `Your usage (${usage.user})` }), kv([
      ["cpu", amount(me.held.cpu, quota.cpu, "", "my-cpu")],
      ["memory", amount(me.held.memory_mb, quota.memory_mb, " MiB")],
      ["gpus", amount(me.held.gpus, quota.gpu)], ["running jobs", amount(me.running_jobs, quota.running_jobs)],
      ["disk", h("span", {}, `${(d.used_bytes / 2 ** 20).toFixed(1)} MiB of ${d.quota_bytes ? (d.quota_bytes / 2 ** 20).toFixed(0) + " MiB" : "∞"} `, bar(d.used_bytes, d.quota_bytes))],
      ["at quota", me.quota_reached.join(", ") || "no"],
    ]));
    const parts = [h("div", { class: "grid" }, server, mine)];
    if (cap.scope === "server") {
      parts.push(h("h2", { text: `Users (${cap.users.length})` }), h("div", { id: "users-table" }, table([
        { label: "user", get: (u) => u.user },
        { label: "cpu", get: (u) => `${fmt(u.held.cpu)} / ${fmt(quota.cpu)}`, cls: "num" },
        { label: "memory MiB", get: (u) => `${u.held.memory_mb} / ${fmt(quota.memory_mb)}`, cls: "num" },
        { label: "gpus", get: (u) => `${u.held.gpus} / ${fmt(quota.gpu)}`, cls: "num" },
        { label: "running jobs", get: (u) => `${u.running_jobs} / ${fmt(quota.running_jobs)}`, cls: "num" },
        { label: "notebooks", get: (u) => String(u.queue.notebooks), cls: "num" },
        { label: "model servers", get: (u) => String(u.queue.service_generations), cls: "num" },
        { label: "queued", get: (u) => String(u.queue.queued_jobs), cls: "num" },
        { label: "waiting for", get: (u) => reasons(u.queue) },
        { label: "at quota", get: (u) => u.quota_reached.join(", ") },
      ], cap.users)));
    }
    parts.push(
      h("h2", { text: `Queued (${queued.count})` }),
      table([
        { label: "job", get: (j) => link(`#/jobs/${j.id}`, String(j.id)) }, { label: "name", get: (j) => j.name },
        { label: "user", get: (j) => j.user },
        { label: "priority", get: (j) => String(j.priority), cls: "num" }, { label: "reason", get: (j) => j.queue_reason || "" },
        { label: "why", get: (j) => j.queue_message }, { label: "since", get: (j) => time(j.created_at) },
      ], queued.data, "nothing waits"),
      h("h2", { text: `Running (${running.count})` }),
      table([
        { label: "job", get: (j) => link(`#/jobs/${j.id}`, String(j.id)) }, { label: "name", get: (j) => j.name },
        { label: "user", get: (j) => j.user },
        { label: "cpu", get: (j) => String(j.resources.cpu), cls: "num" }, { label: "memory MiB", get: (j) => String(j.resources.memory_mb), cls: "num" },
        { label: "started", get: (j) => time(j.started_at) },
      ], running.data, "nothing runs"));
    holder.replaceChildren(...parts);
  };
  await refresh();
  ctx.every(3000, refresh);
}
