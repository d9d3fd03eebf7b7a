// dom.js - build elements without innerHTML, so no text from the store is ever parsed as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

// A two-column table of key/value rows; values may be nodes.
export function kvTable(rows) {
  return h("table", { class: "kv" },
    rows.filter((r) => r[1] !== undefined && r[1] !== null)
      .map(([k, v]) => h("tr", {}, h("td", { class: "k" }, k),
        h("td", {}, v instanceof Node ? v : typeof v === "object" ? h("code", {}, JSON.stringify(v)) : String(v)))));
}

// An error shown in the page where it happened (403s included), with the server's summary.
export function errorBox(err) {
  return h("div", { class: "error", role: "alert", dataset: { status: err.status || "" } },
    err.status === 403 ? "Refused (403 Forbidden): " : err.status === 401 ? "Not signed in or wrong credentials (401): " : "",
    err.body && err.body.summary ? err.body.summary : err.message);
}
