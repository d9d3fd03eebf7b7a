// player.js - plays a tamsd HLS playlist (/hls/flows/{id}.m3u8, /hls/sources/{id}.m3u8) with
// hls.js when the binary carries it (/ui/vendor/hls.min.js), or natively where the browser
// plays HLS itself. A bearer token goes in ?access_token= (the playlist's own URIs then carry
// it); basic credentials go in hls.js's requests to /hls/ only, since segment URLs are
// presigned and may point elsewhere.
import { credentials, authHeader, query } from "./api.js";
import { h } from "./dom.js";

let hlsLoad = null;

// Resolves to window.Hls, or null when the build has no hls.js.
function loadHls() {
  if (!hlsLoad) {
    hlsLoad = new Promise((resolve) => {
      const s = h("script", { src: "vendor/hls.min.js" });
      s.onload = () => resolve(window.Hls || null);
      s.onerror = () => resolve(null);
      document.head.append(s);
    });
  }
  return hlsLoad;
}

export function playlistUrl(kind, id, timerange) {
  const c = credentials();
  return `/hls/${kind}/${id}.m3u8` + query({ timerange, access_token: c && c.kind === "bearer" ? c.token : null });
}

// A player box: video element, status line; .play(url) (re)starts it.
export class Player {
  constructor() {
    this.video = h("video", { id: "player", controls: true, muted: true, playsInline: true });
    this.video.muted = true; // autoplay is allowed only when muted
    this.status = h("div", { class: "note", id: "player-status" });
    this.errors = [];
    this.el = h("div", { class: "player" }, this.video, this.status);
    this.video.addEventListener("error", () => this.fail("media error " + (this.video.error && this.video.error.code)));
    this.video.addEventListener("playing", () => { this.status.textContent = "playing"; });
  }

  fail(text) {
    this.errors.push(text);
    this.el.dataset.errors = this.errors.length;
    this.status.textContent = text;
    this.status.className = "error";
  }

  async play(url) {
    this.stop();
    this.status.className = "note";
    this.status.textContent = "loading " + url.replace(/access_token=[^&]*/, "access_token=…");
    const Hls = await loadHls();
    if (Hls && Hls.isSupported()) {
      const auth = authHeader();
      const basic = credentials() && credentials().kind === "basic";
      this.hls = new Hls({
        enableWorker: false, // the CSP allows no blob: workers
        xhrSetup: (xhr, u) => {
          if (basic && new URL(u, location.href).origin === location.origin && new URL(u, location.href).pathname.startsWith("/hls/"))
            xhr.setRequestHeader("Authorization", auth);
        },
      });
      this.hls.on(Hls.Events.ERROR, (_, d) => {
        if (d.fatal) this.fail(`hls.js: ${d.type} ${d.details}${d.response ? " (HTTP " + d.response.code + ")" : ""}`);
      });
      this.hls.loadSource(url);
      this.hls.attachMedia(this.video);
      this.hls.on(Hls.Events.MANIFEST_PARSED, () => this.video.play().catch((e) => this.fail(String(e))));
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      if (credentials() && credentials().kind === "basic") {
        this.fail("This browser plays HLS itself and cannot send basic credentials: sign in with a token to play.");
        return;
      }
      this.video.src = url;
      this.video.play().catch((e) => this.fail(String(e)));
    } else {
      this.fail("Playback needs hls.js, which this build of tamsd does not carry: run `npm ci` in web/ " +
        "(scripts/deps.sh does) and rebuild. The playlist itself is at " + url.replace(/access_token=[^&]*/, "access_token=…"));
      this.el.dataset.nohls = "1";
    }
  }

  stop() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
  }
}
