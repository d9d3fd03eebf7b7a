// api.js - the one way the pages talk to tamsd: credentials from sessionStorage (never a
// cookie), sent in the Authorization header; errors carry the spec's error body.

const KEY = "tamsd.credentials";

export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

// kind "bearer" (an API token or a JWT) or "basic" (user name and password).
export function signIn(kind, a, b) {
  const c = kind === "bearer" ? { kind, token: a, who: "token" }
                              : { kind, basic: btoa(unescape(encodeURIComponent(a + ":" + b))), who: a };
  sessionStorage.setItem(KEY, JSON.stringify(c));
  return c;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

export function authHeader() {
  const c = credentials();
  if (!c) return null;
  return c.kind === "bearer" ? "Bearer " + c.token : "Basic " + c.basic;
}

export class ApiError extends Error {
  constructor(status, body, method, path) {
    const summary = body && body.summary ? body.summary : "HTTP " + status;
    super(`${method} ${path}: ${status} ${body && body.type ? body.type + ": " : ""}${summary}`);
    this.status = status;
    this.body = body;
  }
}

// fetch a path of the API; returns {status, headers, body} or throws ApiError.
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const auth = authHeader();
  if (auth) headers.Authorization = auth;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let parsed = null;
  const text = await r.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { summary: text.slice(0, 200) };
    }
  }
  if (!r.ok) throw new ApiError(r.status, parsed, method, path);
  return { status: r.status, headers: r.headers, body: parsed };
}

export const get = (path) => api("GET", path);

// A query string from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

// The next page's key of a listing: X-Paging-NextKey, else the page= of Link's rel="next".
export function nextKey(headers) {
  const k = headers.get("X-Paging-NextKey");
  if (k) return k;
  const link = headers.get("Link") || "";
  const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  if (!m) return null;
  return new URL(m[1], location.href).searchParams.get("page");
}

// The TAMS version the API at the root speaks (tamsd's root_api_version: "7.0" or "8.2"), from
// /service, asked once per page load.
let versionAsked = null;
export function apiVersion() {
  if (!versionAsked) {
    versionAsked = get("/service").then((r) => (r.body && r.body.api_version) || "7.0",
      (e) => { versionAsked = null; throw e; });
  }
  return versionAsked;
}

export function is82(version) {
  return parseFloat(version) >= 8;
}

// Every element of a listing, page after page (8.2 pages lists 7.0 gave whole), at most
// maxPages pages.
export async function getAll(path, maxPages = 20) {
  const out = [];
  let key = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const r = await get(key ? `${path}${sep}page=${encodeURIComponent(key)}` : path);
    out.push(...(r.body || []));
    key = nextKey(r.headers);
    if (!key) break;
  }
  return out;
}
