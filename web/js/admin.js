// admin.js - webhooks and deletion requests (the API shows each principal its own), and the
// service page.
import { api, get, getAll, apiVersion, is82 } from "./api.js";
import { h, clear, kvTable, errorBox } from "./dom.js";

// TAMS 8.x webhooks have ids, and are removed by id; 7.0 ones are shown without.
function webhookRow(w, v82, out) {
  const filters = Object.fromEntries(Object.entries(w).filter(([k]) => /_ids$|^accept_/.test(k)));
  const cells = [h("td", { class: "mono" }, w.url), h("td", {}, (w.events || []).join(", ")),
    h("td", {}, w.status || ""), h("td", {}, h("code", {}, JSON.stringify(filters)))];
  if (v82) {
    cells.unshift(h("td", { class: "mono" }, w.id || "-"));
    cells.push(h("td", {}, w.id ? h("button", { type: "button", class: "remove", onclick: async () => {
      clear(out);
      try {
        await api("DELETE", `/service/webhooks/${encodeURIComponent(w.id)}`);
        location.reload();
      } catch (err) {
        clear(out, errorBox(err));
      }
    } }, "Remove") : ""));
  }
  return h("tr", { dataset: { url: w.url } }, cells);
}

export async function webhooksPage(root, { isCurrent }) {
  const [version, hooks] = await Promise.all([apiVersion(), getAll("/service/webhooks")]);
  if (!isCurrent()) return;
  const v82 = is82(version);
  const url = h("input", { name: "url", type: "url", size: 40, placeholder: "https://…" });
  const events = h("input", { name: "events", size: 40, value: "flows/created,flows/updated,flows/segments_added" });
  const out = h("div", { class: "edit-result" });
  const head = ["URL", "Events", "Status", "Filters"];
  root.append(h("h1", {}, "Webhooks"),
    h("table", { id: "webhooks" },
      h("tr", {}, (v82 ? ["Id", ...head, ""] : head).map((x) => h("th", {}, x))),
      hooks.map((w) => webhookRow(w, v82, out))),
    hooks.length ? "" : h("p", { class: "note" }, "No webhook is registered for you."),
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

// TAMS 7.0 lists them whole; 8.2 pages them: every page is read.
export async function deletionsPage(root, { isCurrent }) {
  const list = await getAll("/flow-delete-requests");
  if (!isCurrent()) return;
  root.append(h("h1", {}, "Deletion requests"),
    h("table", { id: "deletions" },
      h("tr", {}, h("th", {}, "Id"), h("th", {}, "Flow"), h("th", {}, "Timerange"), h("th", {}, "Status"), h("th", {}, "By")),
      list.map((d) => h("tr", {}, h("td", { class: "mono" }, d.id), h("td", {}, h("a", { href: "#/flows/" + d.flow_id, class: "mono" }, d.flow_id)),
        h("td", { class: "mono" }, d.timerange || ""), h("td", {}, d.status || ""), h("td", {}, d.created_by || "")))),
    list.length ? "" : h("p", { class: "note" }, "No deletion request of yours."));
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
      ["Object timeout", d.min_object_timeout], ["Presigned URL timeout", d.min_presigned_url_timeout],
      ["Events", d.event_stream_mechanisms ? d.event_stream_mechanisms.map((m) => m.name).join(", ") : undefined]]),
    h("h2", {}, "Storage backends"),
    h("table", { id: "backends" }, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Label"), h("th", {}, "Type"), h("th", {}, "Default")),
      b.body.map((x) => h("tr", {}, h("td", { class: "mono" }, x.id), h("td", {}, x.label || ""),
        h("td", {}, x.store_type || x.provider || ""), h("td", {}, x.default_storage ? "yes" : "")))),
    h("h2", {}, "Totals"),
    a.error ? errorBox(a.error) : kvTable([["Flows", a.flow_count], ["Segments", a.segment_count],
      ["Timerange", a.timerange], ["Stored bytes", a.stored_bytes], ["Objects", a.object_count]]));
}
