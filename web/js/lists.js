// lists.js - the sources and flows listings: search by label, tag, format (and codec for
// flows), paged with the API's page keys (X-Paging-NextKey / Link rel="next").
import { get, query, nextKey } from "./api.js";
import { h } from "./dom.js";

const FORMATS = ["", "urn:x-nmos:format:video", "urn:x-nmos:format:audio", "urn:x-nmos:format:data",
  "urn:x-nmos:format:image", "urn:x-tam:format:image", "urn:x-nmos:format:multi"];

// The search form: its fields come from and go to the hash's query.
function searchForm(kind, params, withCodec) {
  const f = (name, attrs) => h("input", { name, value: params.get(name) || "", ...attrs });
  const fmt = h("select", { name: "format" }, FORMATS.map((v) =>
    h("option", { value: v, selected: params.get("format") === v }, v || "any format")));
  const tagName = f("tag_name", { placeholder: "name", size: 10 });
  const tagValue = f("tag_value", { placeholder: "value", size: 10 });
  const label = f("label", { size: 16 });
  const codec = withCodec ? f("codec", { placeholder: "e.g. video/h264", size: 14 }) : null;
  const limit = h("select", { name: "limit" }, ["10", "25", "50", "100"].map((v) =>
    h("option", { value: v, selected: (params.get("limit") || "25") === v }, v)));
  return h("form", { class: "search", onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const el of [label, fmt, codec, tagName, tagValue, limit]) if (el && el.value) q.set(el.name, el.value);
    location.hash = `#/${kind}?` + q;
  } },
  h("label", {}, "Label", label), h("label", {}, "Format", fmt),
  codec && h("label", {}, "Codec", codec),
  h("label", {}, "Tag", tagName), h("label", {}, "Tag value", tagValue),
  h("label", {}, "Per page", limit), h("button", { type: "submit" }, "Search"));
}

// The API's query for the hash's query.
function apiQuery(params, withCodec) {
  const q = { label: params.get("label"), format: params.get("format"), limit: params.get("limit") || "25",
    page: params.get("page") };
  if (withCodec) q.codec = params.get("codec");
  const tn = params.get("tag_name");
  if (tn) {
    if (params.get("tag_value")) q["tag." + tn] = params.get("tag_value");
    else q["tag_exists." + tn] = "true";
  }
  return q;
}

// Previous pages are the keys we came through (the API has no rel="prev").
function pager(kind, params, next) {
  const back = params.getAll("back");
  const go = (page, backs) => {
    const q = new URLSearchParams(params);
    q.delete("page");
    q.delete("back");
    if (page) q.set("page", page);
    for (const b of backs) q.append("back", b);
    return `#/${kind}?` + q;
  };
  const prev = back.length ? go(back[back.length - 1] === "-" ? null : back[back.length - 1], back.slice(0, -1)) : null;
  return h("div", { class: "pager" },
    prev ? h("a", { href: prev, class: "prev" }, "← Previous") : h("span", { class: "note" }, "← Previous"),
    h("span", { class: "note" }, "page " + (back.length + 1)),
    next ? h("a", { href: go(next, [...back, params.get("page") || "-"]), class: "next" }, "Next →")
      : h("span", { class: "note" }, "Next →"));
}

function tagText(tags) {
  return Object.entries(tags || {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("|") : v}`).join(", ");
}

export async function sourcesPage(root, { params, isCurrent }) {
  root.append(h("h1", {}, "Sources"), searchForm("sources", params, false));
  const r = await get("/sources" + query(apiQuery(params, false)));
  if (!isCurrent()) return;
  root.append(h("table", { id: "sources" },
    h("tr", {}, h("th", {}, "Label"), h("th", {}, "Format"), h("th", {}, "Tags"), h("th", {}, "Id")),
    r.body.map((s) => h("tr", {},
      h("td", {}, h("a", { href: "#/sources/" + s.id }, s.label || "(no label)")),
      h("td", {}, s.format || ""), h("td", {}, tagText(s.tags)), h("td", { class: "mono" }, s.id)))),
  r.body.length ? "" : h("p", { class: "note" }, "No source matches."),
  pager("sources", params, nextKey(r.headers)));
}

export async function flowsPage(root, { params, isCurrent }) {
  root.append(h("h1", {}, "Flows"), searchForm("flows", params, true));
  const r = await get("/flows" + query(apiQuery(params, true)));
  if (!isCurrent()) return;
  root.append(h("table", { id: "flows" },
    h("tr", {}, h("th", {}, "Label"), h("th", {}, "Format"), h("th", {}, "Codec"), h("th", {}, "Tags"), h("th", {}, "Source")),
    r.body.map((f) => h("tr", { dataset: { flowId: f.id } },
      h("td", {}, h("a", { href: "#/flows/" + f.id }, f.label || "(no label)")),
      h("td", {}, (f.format || "").replace(/^urn:x-[a-z]+:format:/, "")), h("td", {}, f.codec || ""),
      h("td", {}, tagText(f.tags)),
      h("td", {}, h("a", { href: "#/sources/" + f.source_id, class: "mono" }, f.source_id.slice(0, 8)))))),
  r.body.length ? "" : h("p", { class: "note" }, "No flow matches."),
  pager("flows", params, nextKey(r.headers)));
}
