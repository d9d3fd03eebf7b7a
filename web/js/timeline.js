// timeline.js - a flow's coverage on a zoomable canvas. It asks the server only for what it
// draws: the flow's extent from /analytics/flows/{id}, its gaps from /analytics/flows/{id}/gaps
// (a bounded number of pages), and the segments themselves only when the window shows few
// enough of them (one request, limit MAX_SEGS). A flow of a million segments costs the same.
import { get, query, nextKey } from "./api.js";
import { h } from "./dom.js";
import { parseRange, formatRange, label, human } from "./time.js";

const MAX_SEGS = 1000;      // segments fetched for one window
const GAP_PAGES = 10;       // pages of 1,000 gaps read at most
const COLORS = { cov: "#2da44e", gap: "#d1242f", seg: "#0b3d1a", sel: "rgba(31,111,235,0.25)",
  axis: "#5f6b76", none: "#eaeef2" };

export class Timeline {
  // flowId; extent {start, end} (seconds); segmentCount; onChange(selection or null, view)
  constructor(flowId, extent, segmentCount, onChange) {
    this.flowId = flowId;
    this.extent = extent;
    this.count = segmentCount;
    this.onChange = onChange;
    this.view = { a: extent.start, b: extent.end };
    this.sel = null;
    this.gaps = [];
    this.gapsComplete = true;
    this.segs = null;        // {a, b, list: [[start, end], ...], complete} for the window fetched
    this.requests = 0;       // how many the timeline made (shown, and read by the tests)
    this.canvas = h("canvas", { id: "timeline-canvas", width: 1000, height: 90 });
    this.info = h("div", { class: "note", id: "timeline-info" });
    this.gapList = h("ul", { id: "gaps" });
    const btn = (text, fn, id) => h("button", { type: "button", onclick: fn, id }, text);
    this.el = h("div", { class: "timeline" },
      h("div", { class: "row" },
        btn("Zoom in", () => this.zoom(0.5)), btn("Zoom out", () => this.zoom(2)),
        btn("◀", () => this.pan(-0.5)), btn("▶", () => this.pan(0.5)),
        btn("Whole flow", () => this.setView(extent.start, extent.end), "tl-all"),
        btn("Zoom to selection", () => this.sel && this.setView(this.sel.a, this.sel.b), "tl-zoomsel"),
        btn("Clear selection", () => this.select(null))),
      this.canvas,
      h("div", { class: "legend note" }, h("span", { class: "cov" }), "covered", h("span", { class: "gap" }), "gap",
        h("span", { class: "sel" }), "selection (drag to select, wheel to zoom)"),
      this.info, h("details", {}, h("summary", {}, "Gaps in view"), this.gapList));
    this.listen();
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  async load() {
    // Gaps: bounded pages; past them the window's segments show the rest when zoomed in.
    let page = null;
    for (let i = 0; i < GAP_PAGES; i++) {
      const r = await get(`/analytics/flows/${this.flowId}/gaps` + query({ limit: 1000, page }));
      this.requests++;
      for (const g of r.body) {
        const tr = parseRange(g.timerange);
        if (tr) this.gaps.push({ a: tr.start, b: tr.end, text: g.timerange, duration: g.duration });
      }
      page = nextKey(r.headers);
      if (!page) break;
    }
    this.gapsComplete = !page;
    this.draw();
    this.fetchSegments();
  }

  x(t) {
    return ((t - this.view.a) / (this.view.b - this.view.a)) * this.canvas.width;
  }

  t(x) {
    return this.view.a + (x / this.canvas.width) * (this.view.b - this.view.a);
  }

  setView(a, b) {
    const span = this.extent.end - this.extent.start;
    const minSpan = 0.001;
    if (b - a < minSpan) { const m = (a + b) / 2; a = m - minSpan / 2; b = m + minSpan / 2; }
    // Keep some of the flow in view: at most one window's width beyond either end.
    const w = b - a;
    if (a < this.extent.start - w / 2) { a = this.extent.start - w / 2; b = a + w; }
    if (b > this.extent.end + w / 2) { b = this.extent.end + w / 2; a = b - w; }
    if (w > span * 4 && span > 0) { a = this.extent.start - span * 1.5; b = this.extent.end + span * 1.5; }
    this.view = { a, b };
    this.draw();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetchSegments(), 150);
    this.onChange(this.sel, this.view);
  }

  zoom(f, at) {
    const c = at === undefined ? (this.view.a + this.view.b) / 2 : at;
    this.setView(c - (c - this.view.a) * f, c + (this.view.b - c) * f);
  }

  pan(f) {
    const w = this.view.b - this.view.a;
    this.setView(this.view.a + w * f, this.view.b + w * f);
  }

  select(sel) {
    this.sel = sel && sel.b > sel.a ? sel : null;
    this.draw();
    this.onChange(this.sel, this.view);
  }

  // Segments of the window, only when there are few enough (estimated from the flow's density).
  async fetchSegments() {
    const { a, b } = this.view;
    const span = this.extent.end - this.extent.start;
    const lo = Math.max(a, this.extent.start), hi = Math.min(b, this.extent.end);
    if (hi <= lo) return;
    const est = span > 0 ? (this.count * (hi - lo)) / span : this.count;
    if (est > MAX_SEGS) {
      this.segs = null;
      this.draw();
      return;
    }
    if (this.segs && this.segs.a <= lo && this.segs.b >= hi && this.segs.complete) return;
    const r = await get(`/flows/${this.flowId}/segments` +
      query({ timerange: formatRange(lo, hi), limit: MAX_SEGS, accept_get_urls: "" }));
    this.requests++;
    if (this.view.a !== a || this.view.b !== b) return; // a newer window is on its way
    const list = [];
    for (const s of r.body) {
      const tr = parseRange(s.timerange);
      if (tr) list.push([tr.start, tr.end]);
    }
    this.segs = { a: lo, b: hi, list, complete: !nextKey(r.headers) };
    this.draw();
  }

  // Gaps in [a, b): from the analytics list, and from the segments fetched for the window.
  gapsIn(a, b) {
    const out = this.gaps.filter((g) => g.b > a && g.a < b);
    if (this.segs && this.segs.complete) {
      const l = this.segs.list;
      for (let i = 1; i < l.length; i++) {
        if (l[i][0] > l[i - 1][1] && !out.some((g) => g.a <= l[i - 1][1] && g.b >= l[i][0]))
          out.push({ a: l[i - 1][1], b: l[i][0], text: formatRange(l[i - 1][1], l[i][0]), duration: null });
      }
    }
    return out.sort((p, q) => p.a - q.a);
  }

  draw() {
    const cv = this.canvas;
    const w = Math.max(200, Math.round(cv.clientWidth * (window.devicePixelRatio || 1))) || 1000;
    if (cv.width !== w) cv.width = w;
    const g = cv.getContext("2d");
    const H = cv.height;
    g.clearRect(0, 0, w, H);
    const { a, b } = this.view;
    cv.dataset.viewStart = a;
    cv.dataset.viewEnd = b;
    // the bar: grey outside the flow, green inside, red over gaps
    const y0 = 18, y1 = 58;
    g.fillStyle = COLORS.none;
    g.fillRect(0, y0, w, y1 - y0);
    const cx0 = Math.max(0, this.x(this.extent.start)), cx1 = Math.min(w, this.x(this.extent.end));
    if (cx1 > cx0) {
      g.fillStyle = COLORS.cov;
      g.fillRect(cx0, y0, Math.max(1, cx1 - cx0), y1 - y0);
    }
    const gaps = this.gapsIn(a, b);
    g.fillStyle = COLORS.gap;
    for (const gp of gaps) {
      const x0 = Math.max(0, this.x(gp.a)), x1 = Math.min(w, this.x(gp.b));
      g.fillRect(Math.floor(x0), y0, Math.max(2, x1 - x0), y1 - y0); // a tiny gap stays visible
    }
    // segment boundaries, when the window's segments are loaded
    if (this.segs) {
      g.fillStyle = COLORS.seg;
      for (const [s, e] of this.segs.list) {
        const x0 = this.x(s), x1 = this.x(e);
        if (x1 < 0 || x0 > w) continue;
        g.fillRect(Math.round(x0), y1, 1, 8);
        if (x1 - x0 > 6) g.fillRect(Math.round(x0), y0, 1, y1 - y0);
      }
    }
    if (this.sel) {
      g.fillStyle = COLORS.sel;
      g.fillRect(this.x(this.sel.a), 0, this.x(this.sel.b) - this.x(this.sel.a), H);
    }
    // axis: five labels
    g.fillStyle = COLORS.axis;
    g.font = `${Math.round(11 * (window.devicePixelRatio || 1))}px system-ui, sans-serif`;
    for (let i = 0; i <= 4; i++) {
      const x = (w * i) / 4;
      g.fillRect(Math.min(w - 1, x), y1 + 10, 1, 5);
      const text = label(this.t(x));
      const tw = g.measureText(text).width;
      g.fillText(text, Math.min(Math.max(0, x - tw / 2), w - tw), H - 4);
    }
    g.fillText(human(b - a) + " in view", 2, 12);
    this.info.textContent = `${this.count} segments, ${this.gaps.length}${this.gapsComplete ? "" : "+"} gaps; ` +
      (this.segs ? `${this.segs.list.filter(([s, e]) => e > a && s < b).length} segments of this window drawn` :
        "zoom in to see single segments") + `; ${this.requests} requests made`;
    this.gapList.replaceChildren(...gaps.slice(0, 50).map((gp) =>
      h("li", { class: "gap mono", dataset: { start: gp.a, end: gp.b } }, gp.text, gp.duration ? ` (${gp.duration} s)` : "")));
  }

  listen() {
    const cv = this.canvas;
    const px = (e) => (e.offsetX / cv.clientWidth) * cv.width;
    let down = null;
    cv.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.zoom(e.deltaY < 0 ? 0.8 : 1.25, this.t(px(e)));
    }, { passive: false });
    cv.addEventListener("mousedown", (e) => { down = this.t(px(e)); });
    cv.addEventListener("mousemove", (e) => {
      if (down === null) return;
      const t = this.t(px(e));
      this.sel = { a: Math.min(down, t), b: Math.max(down, t) };
      this.draw();
    });
    window.addEventListener("mouseup", (e) => {
      if (down === null) return;
      const t = this.t(e.target === cv ? px(e) : this.x(this.sel ? this.sel.b : down));
      const a = Math.max(Math.min(down, t), this.extent.start), b = Math.min(Math.max(down, t), this.extent.end);
      down = null;
      this.select(b > a ? { a, b } : null);
    });
  }
}
