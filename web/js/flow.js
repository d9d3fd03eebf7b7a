// flow.js - one flow: properties, tags and essence parameters (edited through the API: a
// refusal is shown where the edit was made), the timeline, a player for the selected range,
// and the segment list with links.
import { api, get, query, nextKey } from "./api.js";
import { h, clear, kvTable, errorBox } from "./dom.js";
import { parseTs, parseRange, formatRange, human } from "./time.js";
import { Timeline } from "./timeline.js";
import { Player, playlistUrl } from "./player.js";

// An editing form's outcome, shown beside it.
async function attempt(out, fn, done) {
  clear(out);
  try {
    await fn();
    clear(out, h("div", { class: "ok" }, "Saved."));
    if (done) done();
  } catch (e) {
    clear(out, errorBox(e));
  }
}

function textEditor(name, flowId, value) {
  const input = h("input", { name, value: value || "", size: 40 });
  const out = h("div", { class: "edit-result", id: `edit-${name}-result` });
  return h("form", { id: `edit-${name}`, class: "row", onsubmit: (e) => {
    e.preventDefault();
    attempt(out, () => api("PUT", `/flows/${flowId}/${name}`, input.value));
  } }, input, h("button", { type: "submit" }, "Save " + name), out);
}

function tagsEditor(flow) {
  const out = h("div", { class: "edit-result", id: "edit-tags-result" });
  const rows = Object.entries(flow.tags || {}).map(([k, v]) => {
    const input = h("input", { value: Array.isArray(v) ? JSON.stringify(v) : v, size: 30 });
    return h("tr", {}, h("td", { class: "k" }, k), h("td", {}, input,
      h("button", { type: "button", onclick: () => attempt(out, () => api("PUT", `/flows/${flow.id}/tags/${encodeURIComponent(k)}`, tagValue(input.value))) }, "Save"),
      h("button", { type: "button", onclick: () => attempt(out, () => api("DELETE", `/flows/${flow.id}/tags/${encodeURIComponent(k)}`), () => location.reload()) }, "Delete")));
  });
  const name = h("input", { placeholder: "name", size: 12 });
  const value = h("input", { placeholder: "value", size: 20 });
  return h("div", {}, h("table", { id: "tags" }, rows),
    h("form", { class: "row", onsubmit: (e) => {
      e.preventDefault();
      attempt(out, () => api("PUT", `/flows/${flow.id}/tags/${encodeURIComponent(name.value)}`, tagValue(value.value)), () => location.reload());
    } }, name, value, h("button", { type: "submit" }, "Add tag")), out);
}

// A tag is a string or a list of strings (written as a JSON array).
function tagValue(s) {
  if (s.trim().startsWith("[")) {
    try { return JSON.parse(s); } catch { /* a plain string then */ }
  }
  return s;
}

function essenceEditor(flow) {
  const ta = h("textarea", { id: "essence", spellcheck: false }, JSON.stringify(flow.essence_parameters || {}, null, 2));
  const out = h("div", { class: "edit-result", id: "edit-essence-result" });
  return h("form", { onsubmit: (e) => {
    e.preventDefault();
    attempt(out, async () => {
      const doc = { ...flow, essence_parameters: JSON.parse(ta.value) };
      for (const k of ["created", "metadata_updated", "segments_updated", "created_by", "updated_by", "timerange", "collected_by"]) delete doc[k];
      await api("PUT", `/flows/${flow.id}`, doc);
    });
  } }, ta, h("button", { type: "submit" }, "Save essence parameters"), out);
}

// A get_url as a link when it is http(s); any other scheme (javascript:, data:) stays text.
function link(u) {
  const text = u.label || "get";
  let ok = false;
  try { ok = /^https?:$/.test(new URL(u.url, location.href).protocol); } catch { /* not a URL */ }
  return ok ? h("a", { href: u.url, rel: "noreferrer", target: "_blank" }, text)
    : h("span", { class: "mono", title: "not an http(s) URL" }, text + ": " + u.url);
}

// The segments of a range, a page at a time, with their links.
async function segmentList(el, flowId, tr, page) {
  const r = await get(`/flows/${flowId}/segments` + query({ timerange: tr, limit: 50, page, presigned: "" }));
  const next = nextKey(r.headers);
  clear(el, h("table", { id: "segments" },
    h("tr", {}, h("th", {}, "Timerange"), h("th", {}, "Duration"), h("th", {}, "Object"), h("th", {}, "Links")),
    r.body.map((s) => {
      const t = parseRange(s.timerange);
      return h("tr", {}, h("td", { class: "mono" }, s.timerange), h("td", {}, t ? human(t.end - t.start) : ""),
        h("td", { class: "mono" }, s.object_id),
        h("td", {}, (s.get_urls || []).map((u, i) => [i ? " " : "", link(u)])));
    })),
  h("div", { class: "pager" }, h("span", { class: "note" }, `${r.body.length} segments shown`),
    next ? h("button", { type: "button", onclick: () => segmentList(el, flowId, tr, next) }, "Next 50 →") : null));
}

export async function flowPage(root, { args, isCurrent }) {
  const id = args[0];
  const [fr, ar] = await Promise.all([get(`/flows/${id}`), get(`/analytics/flows/${id}`)]);
  if (!isCurrent()) return;
  const f = fr.body, stats = ar.body;
  const ep = f.essence_parameters || {};
  root.append(
    h("h1", {}, f.label || "(no label)", " ", h("span", { class: "note mono" }, f.id)),
    kvTable([
      ["Source", h("a", { href: "#/sources/" + f.source_id, class: "mono" }, f.source_id)],
      ["Format", f.format], ["Codec", f.codec], ["Container", f.container],
      ["Description", f.description], ["Read-only", String(!!f.read_only)],
      ["Frame", ep.frame_width ? `${ep.frame_width}×${ep.frame_height}` : undefined],
      ["Sample rate", ep.sample_rate], ["Timerange", h("code", {}, stats.timerange)],
      ["Segments", stats.segment_count], ["Covered", human(parseTs(stats.covered_duration))],
      ["Gaps", human(parseTs(stats.gap_duration))], ["Stored bytes", stats.stored_bytes],
      ["Created", f.created ? `${f.created} by ${f.created_by || "?"}` : undefined],
      ["Updated", f.metadata_updated ? `${f.metadata_updated} by ${f.updated_by || "?"}` : undefined],
    ]),
    h("h2", {}, "Label and description"), textEditor("label", id, f.label), textEditor("description", id, f.description),
    h("h2", {}, "Tags"), tagsEditor(f),
    h("h2", {}, "Essence parameters"), essenceEditor(f));

  const extent = parseRange(stats.timerange);
  const segEl = h("div", { id: "segment-list" });
  const rangeEl = h("code", { id: "range" });
  const player = new Player();
  let current = extent ? formatRange(extent.start, extent.end) : null;
  root.append(h("h2", {}, "Timeline"));
  if (!extent) {
    root.append(h("p", { class: "note" }, "This flow has no segments."));
    return;
  }
  const tl = new Timeline(id, extent, stats.segment_count, (sel) => {
    current = sel ? formatRange(sel.a, sel.b) : formatRange(extent.start, extent.end);
    rangeEl.textContent = current;
  });
  rangeEl.textContent = current;
  root.append(tl.el,
    h("h2", {}, "Player"),
    h("div", { class: "row" }, "Range ", rangeEl,
      h("button", { type: "button", id: "play", onclick: () => player.play(playlistUrl("flows", id, current)) }, "Play selection"),
      h("button", { type: "button", onclick: () => segmentList(segEl, id, current).catch((e) => clear(segEl, errorBox(e))) }, "List its segments")),
    player.el,
    h("h2", {}, "Segments"), segEl);
  await tl.load();
  await segmentList(segEl, id, current);
}

