// admin.js - webhooks and deletion requests (the API shows each principal its own), and the
// service page.
import { api, get } from "./api.js";
import { h, clear, kvTable, errorBox } from "./dom.js";

function webhookRow(w) {
  const filters = Object.fromEntries(Object.entries(w).filter(([k]) => /_ids$|^accept_/.test(k)));
  return h("tr", {}, h("td", { class: "mono" }, w.url), h("td", {}, (w.events || []).join(", ")),
    h("td", {}, w.status || ""), h("td", {}, h("code", {}, JSON.stringify(filters))));
}

export async function webhooksPage(root, { isCurrent }) {
  const r = await get("/service/webhooks");
  if (!isCurrent()) return;
  const url = h("input", { name: "url", type: "url", size: 40, placeholder: "https://…" });
  const events = h("input", { name: "events", size: 40, value: "flows/created,flows/updated,flows/segments_added" });
  const out = h("div", { class: "edit-result" });
  root.append(h("h1", {}, "Webhooks"),
    h("table", { id: "webhooks" },
      h("tr", {}, h("th", {}, "URL"), h("th", {}, "Events"), h("th", {}, "Status"), h("th", {}, "Filters")),
      r.body.map(webhookRow)),
    r.body.length ? "" : h("p", { class: "note" }, "No webhook is registered for you."),
    h("h2", {}, "Register a webhook"),
    h("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      try {
        await api("POST", "/service/webhooks", { url: url.value, events: events.value.split(",").map((s) => s.trim()).filter(Boolean) });
        location.reload();
      } catch (err) {
        clear(out, errorBox(err));
      }
    } }, h("label", {}, "URL", url), h("label", {}, "Events (comma-separated)", events), h("button", { type: "submit" }, "Register")),
    out);
}

// The API lists them whole (TAMS 7.0 pages no deletion requests).
export async function deletionsPage(root, { isCurrent }) {
  const r = await get("/flow-delete-requests");
  if (!isCurrent()) return;
  root.append(h("h1", {}, "Deletion requests"),
    h("table", { id: "deletions" },
      h("tr", {}, h("th", {}, "Id"), h("th", {}, "Flow"), h("th", {}, "Timerange"), h("th", {}, "Status"), h("th", {}, "By")),
      r.body.map((d) => h("tr", {}, h("td", { class: "mono" }, d.id), h("td", {}, h("a", { href: "#/flows/" + d.flow_id, class: "mono" }, d.flow_id)),
        h("td", { class: "mono" }, d.timerange || ""), h("td", {}, d.status || ""), h("td", {}, d.created_by || "")))),
    r.body.length ? "" : h("p", { class: "note" }, "No deletion request of yours."));
}

export async function servicePage(root, { isCurrent }) {
  const [s, b] = await Promise.all([get("/service"), get("/service/storage-backends")]);
  let a = null;
  try { a = (await get("/analytics")).body; } catch (e) { a = { error: e }; }
  if (!isCurrent()) return;
  const d = s.body;
  root.append(h("h1", {}, "Service"),
    kvTable([["Name", d.name], ["Description", d.description], ["Type", d.type], ["API version", d.api_version],
      ["Service version", d.service_version], ["Media store", d.media_store && d.media_store.type],
      ["Events", d.event_stream_mechanisms ? d.event_stream_mechanisms.map((m) => m.name).join(", ") : undefined]]),
    h("h2", {}, "Storage backends"),
    h("table", { id: "backends" }, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Label"), h("th", {}, "Type"), h("th", {}, "Default")),
      b.body.map((x) => h("tr", {}, h("td", { class: "mono" }, x.id), h("td", {}, x.label || ""),
        h("td", {}, x.store_type || x.provider || ""), h("td", {}, x.default_storage ? "yes" : "")))),
    h("h2", {}, "Totals"),
    a.error ? errorBox(a.error) : kvTable([["Flows", a.flow_count], ["Segments", a.segment_count],
      ["Timerange", a.timerange], ["Stored bytes", a.stored_bytes], ["Objects", a.object_count]]));
}
