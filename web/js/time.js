// time.js - TAMS timestamps ("s:ns", possibly negative) and timeranges ("[a_b)") as numbers of
// seconds: exact enough to draw and to ask for a window; exact strings from the server are kept
// where they are shown or linked.

export function parseTs(s) {
  const m = /^(-?)(\d+):(\d+)$/.exec(s);
  if (!m) return NaN;
  const v = Number(m[2]) + Number(m[3]) / 1e9;
  return m[1] ? -v : v;
}

export function formatTs(x) {
  const neg = x < 0;
  const a = Math.abs(x);
  let s = Math.floor(a);
  let ns = Math.round((a - s) * 1e9);
  if (ns >= 1e9) { s += 1; ns -= 1e9; }
  return (neg ? "-" : "") + s + ":" + ns;
}

// {start, end, incStart, incEnd} with start/end null when unbounded; null for "()" (empty).
export function parseRange(s) {
  if (!s || s === "()") return null;
  const m = /^([[(])?([^_\])]*)(_([^\])]*))?([\])])?$/.exec(s);
  if (!m) return null;
  const start = m[2] ? parseTs(m[2]) : null;
  const end = m[3] ? (m[4] ? parseTs(m[4]) : null) : start;
  return { start, end, incStart: m[1] !== "(", incEnd: m[5] === "]" };
}

export function formatRange(a, b) {
  return "[" + formatTs(a) + "_" + formatTs(b) + ")";
}

// A duration for people: "1 h 2 min 3.5 s".
export function human(sec) {
  if (!isFinite(sec)) return "?";
  const parts = [];
  let r = sec;
  if (r >= 86400) { parts.push(Math.floor(r / 86400) + " d"); r %= 86400; }
  if (r >= 3600) { parts.push(Math.floor(r / 3600) + " h"); r %= 3600; }
  if (r >= 60) { parts.push(Math.floor(r / 60) + " min"); r %= 60; }
  if (r > 0 || !parts.length) parts.push((Math.round(r * 1000) / 1000) + " s");
  return parts.join(" ");
}

// TAI seconds since the epoch shown as a UTC date (37 s leap offset since 2017; the store's
// timestamps are TAI), or plain seconds when the value is small (a timeline starting at 0).
export function label(x) {
  if (Math.abs(x) < 1e8) return human(x);
  return new Date((x - 37) * 1000).toISOString().replace("T", " ").replace("Z", "");
}
