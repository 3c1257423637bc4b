// Notebooks: the list, opened through the platform's proxy with a fresh access token.
import { api } from "./api.js";
import { h, table, stateBadge, time, toast } from "./dom.js";

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
      { label: "", get: (x) => (x.state === "RUNNING" ? h("button", { type: "button", class: "secondary", id: `open-notebook-${x.id}`, text: "Open", onclick: () => open(x) }) : "") },
    ], data.data, "no notebooks: `miniflow notebooks create`"));
  };
  main.append(h("h1", { text: "Notebooks" }), holder);
  await refresh();
  ctx.every(5000, refresh);
}
