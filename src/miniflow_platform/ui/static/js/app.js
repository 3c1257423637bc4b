// The single-page app: sign-in, navigation by location.hash, one page at a time.
import { api, token } from "./api.js";
import { h, toast } from "./dom.js";
import { jobsPage, jobPage } from "./jobs.js";
import { pipelinesPage, pipelinePage, pipelineRunPage } from "./pipelines.js";
import { experimentsPage, experimentPage, runPage, comparePage } from "./experiments.js";
import { servicesPage, servicePage } from "./services.js";
import { notebooksPage } from "./notebooks.js";
import { schedulesPage } from "./schedules.js";
import { queuePage } from "./capacity.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signout = document.getElementById("signout");
const pageState = {};
let current = null;
let signingIn = false;

const ROUTES = [
  [/^#\/jobs$/, "jobs", (m, c) => jobsPage(m, c)],
  [/^#\/jobs\/(\d+)$/, "jobs", (m, c, id) => jobPage(m, c, id)],
  [/^#\/pipelines$/, "pipelines", pipelinesPage],
  [/^#\/pipelines\/([^/]+)$/, "pipelines", (m, c, n) => pipelinePage(m, c, decodeURIComponent(n))],
  [/^#\/pipelines\/([^/]+)\/runs\/(\d+)$/, "pipelines", (m, c, n, id) => pipelineRunPage(m, c, decodeURIComponent(n), id)],
  [/^#\/schedules$/, "schedules", schedulesPage],
  [/^#\/experiments$/, "experiments", experimentsPage],
  [/^#\/experiments\/([^/]+)$/, "experiments", (m, c, n) => experimentPage(m, c, decodeURIComponent(n))],
  [/^#\/runs\/(\d+)$/, "experiments", runPage],
  [/^#\/compare\/([\d,]+)$/, "experiments", comparePage],
  [/^#\/services$/, "services", servicesPage],
  [/^#\/services\/([^/]+)$/, "services", (m, c, n) => servicePage(m, c, decodeURIComponent(n))],
  [/^#\/notebooks$/, "notebooks", notebooksPage],
  [/^#\/predictions$/, "predictions", (m, c) => jobsPage(m, c, "/v1/predictions", "#/predictions", "Batch predictions")],
  [/^#\/predictions\/(\d+)$/, "predictions", (m, c, id) => jobPage(m, c, id, "/v1/predictions")],
  [/^#\/queue$/, "queue", queuePage],
];

function context(controller, key) {
  return {
    signal: controller.signal,
    state: (pageState[key] ||= {}),
    go: (hash) => (location.hash = hash),
    // Calls fn every ms until the page is left or fn returns true.
    every(ms, fn) {
      const tick = async () => {
        if (controller.signal.aborted) return;
        let done = false;
        try { done = await fn(); } catch (e) { if (e.status === 401) return; }
        if (!done && !controller.signal.aborted) setTimeout(tick, ms);
      };
      setTimeout(tick, ms);
    },
  };
}

async function route() {
  if (current) current.abort();
  current = new AbortController();
  document.getElementById("toast").hidden = true; // messages belong to the page they came from
  if (!token.get()) return signIn();
  const hash = location.hash || "#/jobs";
  const found = ROUTES.map(([re, page, fn]) => [hash.match(re), page, fn]).find(([m]) => m);
  main.replaceChildren();
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", found && a.dataset.page === found[1]);
  if (!found) return main.append(h("h1", { text: "Not found" }), h("p", { text: `no page ${hash}` }));
  const [m, , fn] = found;
  try {
    await fn(main, context(current, hash), ...m.slice(1));
  } catch (e) {
    if (e.name !== "AbortError") main.append(h("p", { class: "error", id: "page-error", text: e.message }));
  }
}

function signIn(message) {
  nav.hidden = true;
  signout.hidden = true;
  who.textContent = "";
  const input = h("input", { id: "token-input", type: "password", autocomplete: "off", placeholder: "mfp_…", class: "wide", required: true });
  const error = h("p", { class: "error", id: "signin-error", text: message || "" });
  const form = h("form", { class: "card signin", id: "signin-form" },
    h("h1", { text: "Sign in" }),
    h("p", { class: "muted", text: "Paste an API token (miniflow-platform users create NAME prints one). It is kept in this tab only." }),
    h("label", {}, "API token", input), h("p", {}, h("button", { type: "submit", id: "signin-button", text: "Sign in" })), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    token.set(input.value.trim());
    signingIn = true;
    try {
      await whoAmI();
      if (!location.hash || location.hash === "#/") location.hash = "#/jobs";
      else route();
    } catch (e) {
      token.clear();
      error.textContent = e.message;
    } finally {
      signingIn = false;
    }
  });
  main.replaceChildren(form);
  input.focus();
}

async function whoAmI() {
  const me = await api("/v1/users/me");
  who.textContent = me.name + (me.is_admin ? " (admin)" : "");
  nav.hidden = false;
  signout.hidden = false;
  return me;
}

signout.addEventListener("click", () => {
  token.clear();
  signIn("signed out");
});
window.addEventListener("unauthorized", () => {
  if (signingIn) return; // the sign-in form reports it itself
  token.clear();
  signIn("your token was refused; sign in again");
});
window.addEventListener("hashchange", route);
window.addEventListener("error", (e) => toast(e.message, true));

if (token.get()) whoAmI().then(route, () => signIn());
else signIn();
