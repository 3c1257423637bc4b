// Model services: state, versions (generations), and a form that sends a prediction.
import { api } from "./api.js";
import { h, table, stateBadge, time, link, kv, toast } from "./dom.js";

const enc = encodeURIComponent;

export async function servicesPage(main, ctx) {
  const holder = h("div");
  const refresh = async () => {
    const data = await api("/v1/services");
    holder.replaceChildren(table([
      { label: "name", get: (x) => link(`#/services/${enc(x.name)}`, x.name) },
      { label: "state", get: (x) => stateBadge(x.state) },
      { label: "generation", get: (x) => String(x.generation), cls: "num" },
      { label: "model", get: (x) => (x.model_job_id ? `job ${x.model_job_id}` : x.model_dir) },
      { label: "update", get: (x) => x.update.state || "" },
      { label: "user", get: (x) => x.user },
      { label: "created", get: (x) => time(x.created_at) },
    ], data.data, "no model services: `miniflow services create NAME --job ID`"));
  };
  main.append(h("h1", { text: "Model services" }), holder);
  await refresh();
  ctx.every(5000, refresh);
}

export async function servicePage(main, ctx, name) {
  const info = h("div");
  const input = h("textarea", { id: "predict-input", rows: 5, cols: 70 });
  input.value = '{"instances": [[1.0, 2.0]]}';
  const output = h("pre", { class: "log", id: "predict-output" });
  const form = h("form", { class: "card", id: "predict-form" }, h("strong", { text: "Send a prediction (TF Serving predict body)" }),
    h("div", { class: "row" }, input, h("button", { type: "submit", id: "predict-send", text: "Predict" })), output);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body;
    try { body = JSON.parse(input.value); } catch (e) { return toast("the request is not JSON: " + e.message, true); }
    output.textContent = "…";
    try {
      const answer = await api(`/v1/services/${enc(name)}:predict`, { method: "POST", body });
      output.textContent = JSON.stringify(answer, null, 2);
    } catch (e) {
      output.textContent = "error: " + e.message;
    }
  });
  main.append(h("h1", {}, `Model service ${name}`), info, form);
  const draw = async () => {
    const x = await api(`/v1/services/${enc(name)}`);
    info.replaceChildren(h("div", { class: "grid" },
      h("div", { class: "card" }, kv([["state", stateBadge(x.state)], ["reason", x.reason], ["url", x.url],
        ["isolation", x.isolation], ["created", time(x.created_at)], ["started", time(x.started_at)]])),
      h("div", { class: "card" }, h("strong", { text: "Versions" }), kv([["serving generation", String(x.generation)],
        ["model", x.model_job_id ? `job ${x.model_job_id} (${x.model_dir})` : x.model_dir],
        ["last update", x.update.state || "never"], ["pending generation", String(x.update.pending_generation ?? "")],
        ["update problem", x.update.reason]])),
      h("div", { class: "card" }, h("strong", { text: "Resources" }), kv([["cpu", String(x.resources.cpu)], ["memory", `${x.resources.memory_mb} MiB`]]))));
  };
  await draw();
  ctx.every(5000, draw);
}
