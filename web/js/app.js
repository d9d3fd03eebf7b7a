// app.js - the shell: hash routes to pages, the sign-in page, the status line.
import { api, credentials, signIn, signOut, apiVersion } from "./api.js";
import { h, clear, errorBox } from "./dom.js";
import { sourcesPage, flowsPage } from "./lists.js";
import { flowPage } from "./flow.js";
import { sourcePage } from "./source.js";
import { webhooksPage, deletionsPage, servicePage } from "./admin.js";

const main = document.getElementById("main");

const routes = [
  [/^\/signin$/, signinPage],
  [/^\/sources$/, sourcesPage],
  [/^\/flows$/, flowsPage],
  [/^\/flows\/([^/]+)$/, flowPage],
  [/^\/sources\/([^/]+)$/, sourcePage],
  [/^\/webhooks$/, webhooksPage],
  [/^\/deletions$/, deletionsPage],
  [/^\/service$/, servicePage],
];

// "#/flows?label=x" -> {path: "/flows", params: URLSearchParams}
function location_() {
  const raw = location.hash.replace(/^#/, "") || "/flows";
  const i = raw.indexOf("?");
  return { path: i < 0 ? raw : raw.slice(0, i), params: new URLSearchParams(i < 0 ? "" : raw.slice(i + 1)) };
}

let generation = 0;

async function render() {
  const gen = ++generation;
  const { path, params } = location_();
  const c = credentials();
  document.getElementById("who").textContent = c ? "signed in: " + c.who : "";
  document.getElementById("signout").hidden = !c;
  if (c) apiVersion().then((v) => { document.getElementById("api-version").textContent = "TAMS " + v; }, () => {});
  if (!c && path !== "/signin") {
    location.hash = "#/signin?next=" + encodeURIComponent(path + (params.toString() ? "?" + params : ""));
    return;
  }
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const root = h("div", { class: "page", dataset: { page: page.name } });
    clear(main, root);
    try {
      // A page checks isCurrent() before it draws what arrived late.
      await page(root, { params, args: m.slice(1).map(decodeURIComponent), isCurrent: () => gen === generation });
    } catch (e) {
      if (gen !== generation) return;
      root.append(errorBox(e));
      if (e.status === 401) root.append(h("p", {}, h("a", { href: "#/signin" }, "Sign in again")));
    }
    return;
  }
  clear(main, h("p", {}, "No such page. "), h("a", { href: "#/flows" }, "Flows"));
}

async function signinPage(root, { params }) {
  const out = h("div");
  const next = params.get("next") || "/flows";
  const done = async (kind, a, b) => {
    signIn(kind, a, b);
    try {
      await api("GET", "/flows?limit=1");
      location.hash = "#" + next;
    } catch (e) {
      signOut();
      clear(out, errorBox(e));
    }
  };
  const token = h("input", { name: "token", type: "password", autocomplete: "off", size: 50 });
  const user = h("input", { name: "username", autocomplete: "username" });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password" });
  root.append(
    h("div", { class: "signin" },
      h("h1", {}, "Sign in"),
      h("p", { class: "note" }, "Credentials are kept in this tab's session storage (never a cookie) and sent to the API in the Authorization header."),
      h("form", { id: "signin-token", onsubmit: (e) => { e.preventDefault(); done("bearer", token.value.trim()); } },
        h("fieldset", {}, h("legend", {}, "API token or JWT"), h("label", {}, "Token", token),
          h("button", { type: "submit" }, "Sign in with token"))),
      h("form", { id: "signin-basic", onsubmit: (e) => { e.preventDefault(); done("basic", user.value, pass.value); } },
        h("fieldset", {}, h("legend", {}, "User name and password"), h("label", {}, "User", user),
          h("label", {}, "Password", pass), h("button", { type: "submit" }, "Sign in"))),
      out));
}

document.getElementById("signout").addEventListener("click", () => {
  signOut();
  location.hash = "#/signin";
});
window.addEventListener("hashchange", render);
render();
