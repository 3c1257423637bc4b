// Schedules: the list, and a form that edits one in place (PATCH with the version read,
// so an edit someone else made meanwhile is reported instead of overwritten).
import { api, ApiError } from "./api.js";
import { h, table, time, toast, splitArgs } from "./dom.js";

const CONCURRENCY = ["allow", "forbid", "replace"];
const CATCH_UP = ["none", "once", "all"];

export async function schedulesPage(main) {
  const holder = h("div", { id: "schedules-table" });
  const editor = h("div", { id: "schedule-editor" });
  main.append(h("h1", { text: "Schedules" }), editor, holder);
  const refresh = async () => {
    let data;
    try {
      data = await api("/v1/schedules");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return holder.replaceChildren(h("p", { class: "muted", text: "this server has no schedules API" }));
      throw e;
    }
    holder.replaceChildren(table([
      { label: "name", get: (x) => x.name }, { label: "cron", get: (x) => `${x.cron} (${x.timezone})` },
      { label: "runs", get: (x) => x.pipeline ? `pipeline ${x.pipeline}` : x.target },
      { label: "policy", get: (x) => `${x.concurrency_policy}, catch-up ${x.catch_up}` },
      { label: "paused", get: (x) => (x.paused ? "yes" : "no") },
      { label: "next", get: (x) => h("span", { class: "next-fire", "data-name": x.name, "data-at": x.next_fire_at || "", text: time(x.next_fire_at) }) },
      { label: "last", get: (x) => time(x.last_scheduled_at) },
      { label: "active", get: (x) => (x.active_runs || []).join(", ") },
      { label: "version", get: (x) => String(x.version ?? ""), cls: "num" },
      { label: "", get: (x) => h("button", { type: "button", class: "secondary", id: `edit-${x.name}`, text: "Edit", onclick: () => edit(x) }) },
    ], data.data, "no schedules: `miniflow schedules create`"));
  };
  const edit = (s) => editor.replaceChildren(editForm(s, async () => { editor.replaceChildren(); await refresh(); }, () => editor.replaceChildren()));
  await refresh();
}

function field(label, input) {
  return h("label", {}, label, input);
}

function select(id, options, value) {
  return h("select", { id }, options.map((o) => h("option", { value: o, text: o, selected: o === value })));
}

// The form sends only what changed, with the version it was opened at.
function editForm(s, saved, cancel) {
  const cron = h("input", { id: "sched-cron", value: s.cron, required: true });
  const zone = h("input", { id: "sched-timezone", value: s.timezone, required: true });
  const concurrency = select("sched-concurrency", CONCURRENCY, s.concurrency_policy);
  const catchUp = select("sched-catchup", CATCH_UP, s.catch_up);
  const maxCatchup = h("input", { id: "sched-max-catchup", type: "number", min: "1", value: String(s.max_catchup) });
  const deadline = h("input", { id: "sched-deadline", type: "number", min: "0", step: "any", placeholder: "none", value: s.starting_deadline_s ?? "" });
  const paused = h("input", { id: "sched-paused", type: "checkbox", checked: s.paused });
  const description = h("input", { id: "sched-description", class: "wide", value: s.description });
  const target = s.pipeline
    ? h("textarea", { id: "sched-params", text: JSON.stringify(s.params || {}, null, 1) })
    : h("input", { id: "sched-command", class: "wide", value: (s.job?.command || []).map(quote).join(" ") });
  const error = h("p", { class: "error", id: "sched-error" });
  const form = h("form", { class: "card", id: "schedule-form", "data-name": s.name },
    h("h2", { text: `Edit schedule ${s.name} (version ${s.version})` }),
    h("div", { class: "row" }, field("Cron", cron), field("Time zone", zone), field("Concurrency", concurrency),
      field("Catch-up", catchUp), field("Max catch-up", maxCatchup), field("Starting deadline s", deadline), field("Paused", paused)),
    h("div", { class: "row" }, field("Description", description),
      field(s.pipeline ? `Params of pipeline ${s.pipeline} (JSON)` : "Command (runs without a shell)", target)),
    h("p", {}, h("button", { type: "submit", id: "sched-save", text: "Save" }), " ",
      h("button", { type: "button", class: "secondary", id: "sched-cancel", text: "Cancel", onclick: cancel })),
    error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      const body = changes(s, { cron, zone, concurrency, catchUp, maxCatchup, deadline, paused, description, target });
      if (Object.keys(body).length === 0) return cancel();
      body.version = s.version;
      const now = await api(`/v1/schedules/${encodeURIComponent(s.name)}`, { method: "PATCH", body });
      toast(`schedule ${now.name} saved (version ${now.version})`);
      await saved();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 409 ? `${e.message} (Cancel, then Edit again to see the current values)` : e.message;
    }
  });
  return form;
}

function changes(s, f) {
  const body = {};
  const set = (key, value, old) => { if (JSON.stringify(value) !== JSON.stringify(old)) body[key] = value; };
  set("cron", f.cron.value.trim(), s.cron);
  set("timezone", f.zone.value.trim(), s.timezone);
  set("concurrency_policy", f.concurrency.value, s.concurrency_policy);
  set("catch_up", f.catchUp.value, s.catch_up);
  set("max_catchup", Number(f.maxCatchup.value), s.max_catchup);
  set("starting_deadline_s", f.deadline.value === "" ? null : Number(f.deadline.value), s.starting_deadline_s);
  set("paused", f.paused.checked, s.paused);
  set("description", f.description.value, s.description);
  if (s.pipeline) {
    let params;
    try { params = JSON.parse(f.target.value || "{}"); } catch (_) { throw new Error("the params are not JSON"); }
    set("params", params, s.params || {});
  } else {
    const command = splitArgs(f.target.value);
    if (JSON.stringify(command) !== JSON.stringify(s.job.command)) {
      const job = Object.fromEntries(Object.entries(s.job).filter(([k, v]) => v !== null && k !== "name"));
      body.job = { ...job, command };
    }
  }
  return body;
}

function quote(arg) {
  return /[\s'"]/.test(arg) ? (arg.includes("'") ? `"${arg}"` : `'${arg}'`) : arg;
}
