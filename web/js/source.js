// source.js - one source: its properties, its flows, and a multivariant player
// (/hls/sources/{id}.m3u8: one variant per video flow, audio flows as renditions).
import { get, query } from "./api.js";
import { h, kvTable } from "./dom.js";
import { parseRange, formatRange } from "./time.js";
import { Player, playlistUrl } from "./player.js";

export async function sourcePage(root, { args, isCurrent }) {
  const id = args[0];
  const [sr, fr, ar] = await Promise.all([get(`/sources/${id}`), get("/flows" + query({ source_id: id, limit: 100 })),
    get(`/analytics/sources/${id}`)]);
  if (!isCurrent()) return;
  const s = sr.body, stats = ar.body;
  const player = new Player();
  const extent = parseRange(stats.timerange);
  const tr = h("input", { id: "source-range", size: 40, value: extent ? formatRange(extent.start, extent.end) : "" });
  root.append(
    h("h1", {}, s.label || "(no label)", " ", h("span", { class: "note mono" }, s.id)),
    kvTable([["Format", s.format], ["Description", s.description], ["Tags", s.tags],
      ["Flows", stats.flow_count], ["Timerange", stats.timerange], ["Segments", stats.segment_count],
      ["Created", s.created ? `${s.created} by ${s.created_by || "?"}` : undefined]]),
    h("h2", {}, "Flows"),
    h("table", { id: "source-flows" },
      h("tr", {}, h("th", {}, "Label"), h("th", {}, "Format"), h("th", {}, "Codec"), h("th", {}, "Essence")),
      fr.body.map((f) => {
        const ep = f.essence_parameters || {};
        return h("tr", {}, h("td", {}, h("a", { href: "#/flows/" + f.id }, f.label || "(no label)")),
          h("td", {}, (f.format || "").replace(/^urn:x-[a-z]+:format:/, "")), h("td", {}, f.codec || ""),
          h("td", {}, ep.frame_width ? `${ep.frame_width}×${ep.frame_height}` : ep.sample_rate ? `${ep.sample_rate} Hz` : ""));
      })),
    h("h2", {}, "Player (all its flows)"),
    h("div", { class: "row" }, h("label", {}, "Timerange", tr),
      h("button", { type: "button", id: "play", onclick: () => player.play(playlistUrl("sources", id, tr.value || null)) }, "Play")),
    player.el);
}
