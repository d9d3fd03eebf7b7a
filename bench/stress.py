#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stress and soak driver for tamsd: a realistic mix for a given duration, then a report.

Run it through bench/stress.sh, which builds and starts tamsd (SQLite, or PostgreSQL with --pg)
and passes --url and --pid; it can also be pointed at a running tamsd started with
--webhooks-allow-private true (without --pid there is no /proc sampling).

The mix (all on persistent HTTP/1.1 connections, one per thread):
  ingest     N live flows, each getting a 2-second segment every 2/--speed seconds of wall time:
             POST /flows/{id}/storage (--alloc-batch objects at a time), PUT a few bytes to the
             object's put_url, POST /flows/{id}/segments. Each flow lives --lifetime seconds,
             then its slot deletes it (DELETE /flows/{id}) and creates a new one (PUT).
  editors    GET /flows/{id}/segments?timerange=<10 s window> (mostly near the live edge),
             GET /flows/{id}, GET /sources/{id} and now and then PUT /flows/{id}/tags/edited.
  listers    GET /flows with filters (format, codec, frame_width, tag.*, tag_exists.*).
  retention  every --trim-every seconds, DELETE /flows/{id}/segments?timerange=... of the oldest
             segments of each flow that holds more than --keep seconds.
  webhooks   two registrations (every event type to /all; flows/created, flows/deleted and
             flows/segments_deleted to /some) delivered to a receiver this script runs in a
             child process; every delivery is matched against the events the driver's own
             successful writes must produce: none lost, none twice, order kept per flow.
  sampler    every --sample-every seconds: tamsd's VmRSS, open fds, threads and CPU time from
             /proc, PostgreSQL's (with --pg-pid), the load average, and GET /metrics.

Output (--out DIR): summary.md, summary.json, timeline.csv (timeline.jsonl is written sample by
sample during the run), events.jsonl, *.png. The plots
are drawn with gnuplot when it is installed, else by a small PNG writer in this file.
Exit status 0 when the run passed (no 5xx, no transport error, no unexpected status, no lost,
duplicated or reordered webhook; with --judge-flat also RSS and fds flat), 1 when it failed,
2 on a usage or setup error. Standard library only.
"""
import argparse
import array
import collections
import datetime
import heapq
import http.client
import json
import math
import multiprocessing
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zlib

EVENTS = ["flows/created", "flows/updated", "flows/deleted", "flows/segments_added",
          "flows/segments_deleted", "sources/created", "sources/updated", "sources/deleted"]
SOME_EVENTS = ["flows/created", "flows/deleted", "flows/segments_deleted"]
TAI_OFFSET = 37  # TAI - UTC in seconds, so the timeline looks like live TAI timestamps
SEG_S = 2        # segment duration on the media timeline
WINDOW_S = 10    # editors' window

# Operations in report order: name -> what it is.
OPS = collections.OrderedDict([
    ("flow_create", "PUT /flows/{id} (a new live flow)"),
    ("storage_alloc", "POST /flows/{id}/storage"),
    ("object_put", "PUT put_url (a few bytes)"),
    ("segment_register", "POST /flows/{id}/segments (one segment)"),
    ("segments_window", "GET /flows/{id}/segments?timerange=<10 s>"),
    ("flow_get", "GET /flows/{id}"),
    ("source_get", "GET /sources/{id}"),
    ("flow_tag_put", "PUT /flows/{id}/tags/edited"),
    ("flows_list", "GET /flows?<filters>"),
    ("segments_delete", "DELETE /flows/{id}/segments?timerange=<oldest>"),
    ("flow_delete", "DELETE /flows/{id} (slot rotation)"),
    ("metrics", "GET /metrics (the sampler)"),
])

SCALES = {
    # flows, speed, editors, listers, lifetime s, keep s, trim-every s, static flows, sample s
    "tiny": dict(flows=4, speed=5.0, editors=2, listers=1, lifetime=6.0, keep=8.0,
                 trim_every=1.0, static_flows=50, sample_every=1.0, think=0.01),
    "small": dict(flows=8, speed=2.0, editors=4, listers=1, lifetime=120.0, keep=60.0,
                  trim_every=5.0, static_flows=500, sample_every=2.0, think=0.01),
    "medium": dict(flows=32, speed=2.0, editors=6, listers=2, lifetime=600.0, keep=300.0,
                   trim_every=10.0, static_flows=5000, sample_every=5.0, think=0.01),
    "large": dict(flows=100, speed=1.0, editors=8, listers=2, lifetime=1800.0, keep=600.0,
                  trim_every=20.0, static_flows=20000, sample_every=10.0, think=0.005),
}


def now_tai_s():
    return int(time.time()) + TAI_OFFSET


def tr(lo_s, hi_s):
    return "[%d:0_%d:0)" % (lo_s, hi_s)


def tr_lo(text):
    """Seconds of a timerange's start, e.g. '[12:0_14:0)' -> 12 (None if unbounded)."""
    t = text.lstrip("[(").split("_")[0]
    if not t:
        return None
    return int(t.split(":")[0])


def pct(sorted_vals, q):
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(math.ceil(q / 100.0 * len(sorted_vals))) - 1))
    return sorted_vals[k]


def linfit(xs, ys):
    """Least-squares slope and intercept, or (nan, nan) with fewer than 3 points."""
    pts = [(x, y) for x, y in zip(xs, ys) if y == y]
    if len(pts) < 3:
        return float("nan"), float("nan")
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return float("nan"), float("nan")
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    return slope, my - slope * mx


# ---- HTTP ---------------------------------------------------------------------------------------


class Conn:
    """One persistent connection. request() never raises for transport errors: it returns
    status 0 and the error's name, so the caller counts it."""

    IDLE_RECONNECT_S = 20.0  # tamsd closes idle connections after connection_timeout (30 s)

    def __init__(self, host, port, timeout=60):
        self.host, self.port, self.timeout = host, port, timeout
        self.c = None
        self.last = 0.0

    def _open(self):
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None):
        if self.c is None or time.monotonic() - self.last > self.IDLE_RECONNECT_S:
            if self.c is not None:
                self.c.close()
            self._open()
        hdrs = dict(headers or {})
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        try:
            self.c.request(method, path, body=body, headers=hdrs)
            r = self.c.getresponse()
            data = r.read()
            self.last = time.monotonic()
            if r.will_close:
                self.c.close()
                self.c = None
            return r.status, data
        except (OSError, http.client.HTTPException) as e:
            self.c.close()
            self.c = None
            return 0, type(e).__name__.encode()


class Clients:
    """This thread's connections, one per host:port (tamsd, or a put_url's host)."""

    def __init__(self):
        self.by = {}

    def get(self, host, port):
        key = (host, port)
        if key not in self.by:
            self.by[key] = Conn(host, port)
        return self.by[key]


# ---- recording ----------------------------------------------------------------------------------


class Recorder:
    """Per operation: end times and latencies (append-only arrays, read by the sampler with a
    cursor), and error counts by reason."""

    def __init__(self, t0):
        self.t0 = t0
        self.t = {op: array.array("d") for op in OPS}
        self.lat = {op: array.array("d") for op in OPS}
        self.err_t = {op: array.array("d") for op in OPS}
        self.errors = {op: collections.Counter() for op in OPS}
        self.notes = collections.Counter()  # things worth reporting that are not errors
        self.lock = threading.Lock()

    def ok(self, op, start, end):
        self.t[op].append(end - self.t0)
        self.lat[op].append((end - start) * 1000.0)

    def error(self, op, start, end, reason):
        self.t[op].append(end - self.t0)
        self.lat[op].append((end - start) * 1000.0)
        self.err_t[op].append(end - self.t0)
        with self.lock:
            self.errors[op][reason] += 1


def classify(status, body, expected):
    """None when status is expected, else an error reason."""
    if status in expected:
        return None
    if status == 0:
        return "transport: " + body.decode(errors="replace")
    if status >= 500:
        return "HTTP %d (5xx)" % status
    return "HTTP %d (unexpected)" % status


def timed(rec, cl, op, method, path, expected, body=None, headers=None, host=None):
    conn = cl.get(*host) if host else cl.tams
    start = time.perf_counter()
    status, data = conn.request(method, path, body, headers)
    end = time.perf_counter()
    why = classify(status, data, expected)
    if why is None:
        rec.ok(op, start, end)
    else:
        rec.error(op, start, end, why)
        if len(rec.err_t[op]) <= 5:  # the first few of each operation, with the answer
            sys.stderr.write("stress: %s %s %s -> %s %s\n" % (op, method, path[:120], status,
                                                              data[:300].decode(errors="replace")))
    return status, data, why is None


# ---- the store's state as the driver knows it ----------------------------------------------------


class Flow:
    def __init__(self, slot, gen, base_s, codec, width):
        self.id = str(uuid.uuid4())
        self.source_id = str(uuid.uuid4())
        self.slot, self.gen = slot, gen
        self.base = base_s          # media time of segment 0, in TAI seconds
        self.codec, self.width = codec, width
        self.born = time.monotonic()
        self.first_kept = 0         # segments [first_kept, registered) exist in the store
        self.registered = 0
        self.objects = []           # allocated, not yet used (put_url documents)
        self.pending = None         # an uploaded object whose registration failed: retried
        self.users = 0
        self.retired = False

    def seg_tr(self, i, n=1):
        return tr(self.base + SEG_S * i, self.base + SEG_S * (i + n))

    def doc(self, run_tag):
        return json.dumps({
            "id": self.id, "source_id": self.source_id, "format": "urn:x-nmos:format:video",
            "codec": self.codec, "container": "video/mp2t",
            "label": "stress live %d.%d" % (self.slot, self.gen),
            "tags": {"stress": run_tag, "slot": str(self.slot)},
            "essence_parameters": {"frame_width": self.width,
                                   "frame_height": self.width * 9 // 16,
                                   "frame_rate": {"numerator": 50, "denominator": 1}}})


class Pool:
    """The live flows. Readers acquire a flow so that it is never deleted under them."""

    def __init__(self):
        self.cond = threading.Condition()
        self.live = []

    def add(self, f):
        with self.cond:
            self.live.append(f)

    def acquire(self, rnd):
        with self.cond:
            if not self.live:
                return None
            f = rnd.choice(self.live)
            f.users += 1
            return f

    def acquire_all(self):
        with self.cond:
            fs = list(self.live)
            for f in fs:
                f.users += 1
            return fs

    def release(self, f):
        with self.cond:
            f.users -= 1
            if f.users == 0:
                self.cond.notify_all()

    def retire(self, f):
        with self.cond:
            f.retired = True
            self.live.remove(f)
            while f.users:
                self.cond.wait()


class Expect:
    """Events the driver's successful writes must produce, per webhook path and flow/source."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by = collections.defaultdict(list)  # (path, key) -> [(type, timerange or None)]
        self.total = collections.Counter()

    def add(self, etype, key, trange=None):
        with self.lock:
            for path, types in (("/all", EVENTS), ("/some", SOME_EVENTS)):
                if etype in types:
                    self.by[(path, key)].append((etype, trange))
                    self.total[path] += 1


# ---- webhook receiver (child process) ---------------------------------------------------------


def receiver_main(port_pipe, out_path, api_key):
    import http.server

    f = open(out_path, "a", buffering=1)
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            t = time.time()
            n = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(n)
            rec = {"t": t, "path": self.path, "key_ok": self.headers.get("X-Stress-Key") == api_key}
            try:
                b = json.loads(raw)
                ev = b.get("event", {})
                rec["type"] = b.get("event_type")
                rec["ts"] = b.get("event_timestamp")
                if "flow" in ev:
                    rec["key"] = "flow:" + ev["flow"]["id"]
                elif "flow_id" in ev:
                    rec["key"] = "flow:" + ev["flow_id"]
                elif "source" in ev:
                    rec["key"] = "source:" + ev["source"]["id"]
                elif "source_id" in ev:
                    rec["key"] = "source:" + ev["source_id"]
                if "timerange" in ev:
                    rec["tr"] = ev["timerange"]
                elif ev.get("segments"):
                    rec["tr"] = ev["segments"][0]["timerange"]
                    rec["nseg"] = len(ev["segments"])
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                rec["bad"] = repr(e)
            with lock:
                f.write(json.dumps(rec) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    port_pipe.send(srv.server_address[1])
    srv.serve_forever()


class EventTail:
    """Counts the lines of the receiver's file as it grows (without re-reading it)."""

    def __init__(self, path):
        self.path, self.off, self.n = path, 0, 0

    def count(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.n
        end = data.rfind(b"\n") + 1
        self.n += data.count(b"\n", 0, end)
        self.off += end
        return self.n


def read_events(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


# ---- /proc and /metrics -----------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    """(rss_kb, fds, threads, cpu_s) of one process, or None when it is gone."""
    try:
        rss = thr = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    thr = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        cpu = (int(st[11]) + int(st[12])) / CLK_TCK
        fds = len(os.listdir("/proc/%d/fd" % pid))
        return rss, fds, thr, cpu
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def parse_metrics(text):
    """{series: value}. A series named twice is summed: tamsd's duration histogram has one
    series per route table entry, and GET, PUT and DELETE of one template share its name."""
    m = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, val = line.rpartition(" ")
        try:
            m[name] = m.get(name, 0.0) + float(val)
        except ValueError:
            pass
    return m


def metric_sum(m, prefix, pred=lambda k: True):
    return sum(v for k, v in m.items() if k.startswith(prefix) and pred(k))


# ---- the run ------------------------------------------------------------------------------------


class Run:
    def __init__(self, a):
        self.a = a
        u = urllib.parse.urlsplit(a.url)
        self.host, self.port = u.hostname, u.port or 80
        self.stop = threading.Event()
        self.pool = Pool()
        self.expect = Expect()
        self.run_tag = "run-" + uuid.uuid4().hex[:8]
        self.t0 = time.perf_counter()
        self.rec = Recorder(self.t0)
        self.slots = [None] * a.flows
        self.gens = [0] * a.flows
        self.timeline = []
        self.metrics_first = None
        self.metrics_last = None
        self.fatal = []
        self.ingest_late = 0
        self.threads = []
        self.static_tags = 0

    # -- helpers
    def clients(self):
        cl = Clients()
        cl.tams = cl.get(self.host, self.port)
        return cl

    def elapsed(self):
        return time.perf_counter() - self.t0

    def new_flow(self, cl, slot):
        self.gens[slot] += 1
        codec = "video/h264" if slot % 2 == 0 else "video/h265"
        width = 1920 if slot % 3 else 1280
        f = Flow(slot, self.gens[slot], now_tai_s(), codec, width)
        st, body, ok = timed(self.rec, cl, "flow_create", "PUT", "/flows/" + f.id, (201,),
                             f.doc(self.run_tag))
        if not ok:
            return None
        self.expect.add("sources/created", "source:" + f.source_id)
        self.expect.add("flows/created", "flow:" + f.id)
        return f

    def delete_flow(self, cl, f):
        self.pool.retire(f)
        st, body, ok = timed(self.rec, cl, "flow_delete", "DELETE", "/flows/" + f.id, (204, 202))
        if ok:
            if st == 202:
                self.rec.notes["flow deletions answered 202 (background)"] += 1
            self.expect.add("flows/deleted", "flow:" + f.id)
            self.expect.add("sources/deleted", "source:" + f.source_id)

    # -- setup
    def setup(self):
        cl = self.clients()
        st, body = cl.tams.request("GET", "/service")
        if st != 200:
            raise SystemExit("stress: GET /service: HTTP %d" % st)
        # Static flows, so that listings scan a store of some size (not part of the figures).
        rnd = random.Random(7)
        for i in range(self.a.static_flows):
            fid, sid = str(uuid.UUID(int=rnd.getrandbits(128), version=4)), str(uuid.uuid4())
            doc = {"id": fid, "source_id": sid, "format": "urn:x-nmos:format:video",
                   "codec": "video/h264", "container": "video/mp2t", "label": "stress static",
                   "tags": {"stress": "static", "x": "sel" if i % 10 == 0 else "v%d" % i},
                   "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
            st, body = cl.tams.request("PUT", "/flows/" + fid, json.dumps(doc))
            if st not in (201, 204):
                raise SystemExit("stress: static flow: HTTP %d %s" % (st, body[:200]))
        # Webhooks, registered after the static flows: their events are not expected.
        for path, events in (("/all", EVENTS), ("/some", SOME_EVENTS)):
            hook = {"url": "http://127.0.0.1:%d%s" % (self.recv_port, path), "events": events,
                    "api_key_name": "X-Stress-Key", "api_key_value": self.api_key}
            st, body = cl.tams.request("POST", "/service/webhooks", json.dumps(hook))
            if st != 201:
                raise SystemExit("stress: webhook registration: HTTP %d %s (is tamsd running "
                                 "with --webhooks-allow-private true?)" % (st, body[:300]))
        self.t0 = time.perf_counter()
        self.rec.t0 = self.t0
        # The live flows; births staggered over a lifetime so that rotations spread out.
        for slot in range(self.a.flows):
            f = self.new_flow(cl, slot)
            if f is None:
                raise SystemExit("stress: could not create the live flows")
            if self.a.lifetime > 0:
                f.born -= self.a.lifetime * slot / self.a.flows
            self.slots[slot] = f
            self.pool.add(f)

    # -- ingest: one thread per group of slots
    def ingest(self, slots):
        cl = self.clients()
        period = SEG_S / self.a.speed
        rnd = random.Random()
        heap = [(time.monotonic() + rnd.random() * period, s) for s in slots]
        heapq.heapify(heap)
        while heap and not self.stop.is_set():
            due, slot = heapq.heappop(heap)
            delay = due - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            f = self.slots[slot]
            lifetime = self.a.lifetime
            if f is not None and lifetime > 0 and time.monotonic() - f.born >= lifetime:
                self.delete_flow(cl, f)
                f = None
                self.slots[slot] = None
            if f is None:
                f = self.new_flow(cl, slot)
                if f is not None:
                    self.slots[slot] = f
                    self.pool.add(f)
            else:
                self.ingest_one(cl, f)
            nxt = due + period
            if nxt < time.monotonic() - period:  # more than a period behind: do not catch up
                self.ingest_late += 1
                nxt = time.monotonic()
            heapq.heappush(heap, (nxt, slot))

    def ingest_one(self, cl, f):
        obj = f.pending
        if obj is None:
            if not f.objects:
                st, body, ok = timed(self.rec, cl, "storage_alloc", "POST",
                                     "/flows/%s/storage" % f.id, (201,),
                                     json.dumps({"limit": self.a.alloc_batch}))
                if not ok:
                    return
                f.objects = json.loads(body)["media_objects"]
            obj = f.objects.pop()
            u = urllib.parse.urlsplit(obj["put_url"]["url"])
            st, body, ok = timed(self.rec, cl, "object_put", "PUT",
                                 u.path + ("?" + u.query if u.query else ""), (200, 201, 204),
                                 b"stress %s %d" % (f.id.encode(), f.registered),
                                 {"Content-Type": obj["put_url"].get("content-type", "video/mp2t")},
                                 host=(u.hostname, u.port or 80))
            if not ok:
                return
        i = f.registered
        seg = json.dumps({"object_id": obj["object_id"], "timerange": f.seg_tr(i)})
        st, body, ok = timed(self.rec, cl, "segment_register", "POST", "/flows/%s/segments" % f.id,
                             (201,), seg)
        if not ok:
            f.pending = obj
            return
        f.pending = None
        self.expect.add("flows/segments_added", "flow:" + f.id, f.seg_tr(i))
        with self.pool.cond:
            f.registered = i + 1

    # -- editors
    def editor(self, seed):
        cl = self.clients()
        rnd = random.Random(seed)
        while not self.stop.is_set():
            f = self.pool.acquire(rnd)
            if f is None:
                self.stop.wait(0.05)
                continue
            try:
                r = rnd.random()
                if r < 0.60:
                    with self.pool.cond:
                        lo_i, hi_i = f.first_kept, f.registered
                    span = max(0, (hi_i - lo_i) * SEG_S - WINDOW_S)
                    if rnd.random() < 0.7:  # following the live edge
                        start = f.base + lo_i * SEG_S + span
                    else:
                        start = f.base + lo_i * SEG_S + rnd.randint(0, span)
                    q = urllib.parse.quote(tr(start, start + WINDOW_S))
                    timed(self.rec, cl, "segments_window", "GET",
                          "/flows/%s/segments?timerange=%s&limit=100" % (f.id, q), (200,))
                elif r < 0.85:
                    timed(self.rec, cl, "flow_get", "GET", "/flows/" + f.id, (200,))
                elif r < 0.97:
                    timed(self.rec, cl, "source_get", "GET", "/sources/" + f.source_id, (200,))
                else:
                    st, body, ok = timed(self.rec, cl, "flow_tag_put", "PUT",
                                         "/flows/%s/tags/edited" % f.id, (204, 201),
                                         json.dumps("e%d" % rnd.randint(0, 999)))
                    if ok:
                        self.expect.add("flows/updated", "flow:" + f.id)
            finally:
                self.pool.release(f)
            if self.a.think > 0:
                self.stop.wait(rnd.expovariate(1.0 / self.a.think))

    # -- listers
    def lister(self, seed):
        cl = self.clients()
        rnd = random.Random(seed)
        queries = [
            "format=urn:x-nmos:format:video&tag.stress=%s&limit=50" % self.run_tag,
            "codec=video/h265&tag.stress=%s" % self.run_tag,
            "frame_width=1280&limit=20",
            "tag.x=sel&limit=100",
            "tag_exists.edited=true&limit=50",
            "format=urn:x-nmos:format:audio",
            "limit=100",
            "label=stress%20static&limit=10",
        ]
        while not self.stop.is_set():
            q = rnd.choice(queries).replace("/", "%2F").replace(":", "%3A")
            timed(self.rec, cl, "flows_list", "GET", "/flows?" + q, (200,))
            if self.a.think > 0:
                self.stop.wait(rnd.expovariate(1.0 / (self.a.think * 5)))

    # -- retention
    def retention(self):
        cl = self.clients()
        keep = max(1, int(self.a.keep // SEG_S))
        while not self.stop.wait(self.a.trim_every):
            for f in self.pool.acquire_all():
                try:
                    with self.pool.cond:
                        lo, hi = f.first_kept, f.registered
                    n = min(self.a.trim_chunk, hi - lo - keep)
                    if n <= 0 or self.stop.is_set():
                        continue
                    q = urllib.parse.quote(f.seg_tr(lo, n))
                    st, body, ok = timed(self.rec, cl, "segments_delete", "DELETE",
                                         "/flows/%s/segments?timerange=%s" % (f.id, q), (204, 202))
                    if ok:
                        if st == 202:
                            self.rec.notes["segment deletions answered 202 (background)"] += 1
                        with self.pool.cond:
                            f.first_kept = lo + n
                        self.expect.add("flows/segments_deleted", "flow:" + f.id, f.seg_tr(lo, n))
                finally:
                    self.pool.release(f)

    # -- sampler
    def scrape(self, cl):
        st, body, ok = timed(self.rec, cl, "metrics", "GET", "/metrics", (200,))
        return parse_metrics(body.decode(errors="replace")) if ok else None

    def sampler(self):
        cl = self.clients()
        cursors = {op: 0 for op in OPS}
        ecur = 0
        prev_t = self.elapsed()
        prev_cpu = prev_pg_cpu = None
        prev_m = self.metrics_first
        tail = EventTail(self.events_path)
        while True:
            stopping = self.stop.wait(self.a.sample_every)
            t = self.elapsed()
            dt = max(t - prev_t, 1e-6)
            row = {"t": round(t, 2)}
            with open("/proc/loadavg") as fl:
                row["load1"] = float(fl.read().split()[0])
            if self.a.pid:
                s = proc_sample(self.a.pid)
                if s:
                    row["rss_mb"] = round(s[0] / 1024.0, 2)
                    row["fds"] = s[1]
                    row["threads"] = s[2]
                    if prev_cpu is not None:
                        row["cpu_pct"] = round(100.0 * (s[3] - prev_cpu) / dt, 1)
                    prev_cpu = s[3]
            if self.a.pg_pid:
                pids = [self.a.pg_pid] + children(self.a.pg_pid)
                ss = [x for x in (proc_sample(p) for p in pids) if x]
                row["pg_rss_mb"] = round(sum(x[0] for x in ss) / 1024.0, 2)
                row["pg_procs"] = len(ss)
                cpu = sum(x[3] for x in ss)
                if prev_pg_cpu is not None:
                    row["pg_cpu_pct"] = round(100.0 * max(0.0, cpu - prev_pg_cpu) / dt, 1)
                prev_pg_cpu = cpu
            total = 0
            for op in OPS:
                n = len(self.rec.lat[op])
                lat = sorted(self.rec.lat[op][cursors[op]:n])
                cursors[op] = n
                total += len(lat)
                row[op + "_rps"] = round(len(lat) / dt, 2)
                row[op + "_p50_ms"] = round(pct(lat, 50), 3) if lat else float("nan")
                row[op + "_p99_ms"] = round(pct(lat, 99), 3) if lat else float("nan")
            row["total_rps"] = round(total / dt, 2)
            m = self.scrape(cl)
            if m is not None:
                if prev_m is not None:
                    for kind in ("flow", "source"):
                        name = "tams_%s_cache_requests_total" % kind
                        hit, miss = name + '{result="hit"}', name + '{result="miss"}'
                        h = m.get(hit, 0) - prev_m.get(hit, 0)
                        mi = m.get(miss, 0) - prev_m.get(miss, 0)
                        row[kind + "_cache_hit_ratio"] = (round(h / (h + mi), 4) if h + mi
                                                          else float("nan"))
                    row["webhook_delivered_ps"] = round(
                        (m.get("tams_webhook_deliveries_total", 0) -
                         prev_m.get("tams_webhook_deliveries_total", 0)) / dt, 2)
                row["webhook_queue_depth"] = m.get("tams_webhook_queue_depth", float("nan"))
                for kind in ("flow", "source"):  # what the caches hold, next to RSS
                    row[kind + "_cache_entries"] = m.get("tams_%s_cache_entries" % kind,
                                                         float("nan"))
                    row[kind + "_cache_mb"] = round(m.get("tams_%s_cache_bytes" % kind,
                                                          float("nan")) / 1048576.0, 3)
                prev_m = m
                self.metrics_last = m
            nev = tail.count()
            row["webhook_received_ps"] = round((nev - ecur) / dt, 2)
            ecur = nev
            with self.expect.lock:
                row["webhook_expected_total"] = sum(self.expect.total.values())
            row["webhook_received_total"] = nev
            self.timeline.append(row)
            with open(os.path.join(self.a.out, "timeline.jsonl"), "a") as f:  # as it happens
                f.write(json.dumps(row) + "\n")
            prev_t = t
            if stopping:
                return

    # -- main
    def run(self):
        a = self.a
        # The receiver is forked before any thread starts.
        self.events_path = os.path.join(a.out, "events.jsonl")
        for name in ("events.jsonl", "timeline.jsonl"):  # a rerun into the same directory
            if os.path.exists(os.path.join(a.out, name)):
                os.unlink(os.path.join(a.out, name))
        self.api_key = uuid.uuid4().hex
        parent, child = multiprocessing.Pipe()
        self.recv = multiprocessing.Process(target=receiver_main,
                                            args=(child, self.events_path, self.api_key),
                                            daemon=True)
        self.recv.start()
        if not parent.poll(10):
            raise SystemExit("stress: the webhook receiver did not start")
        self.recv_port = parent.recv()
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.load_start = open("/proc/loadavg").read().split()[:3]
        self.setup()
        cl = self.clients()
        self.metrics_first = self.scrape(cl)
        self.proc_first = proc_sample(a.pid) if a.pid else None
        nthr = max(1, min(a.ingest_threads, a.flows))
        groups = [list(range(k, a.flows, nthr)) for k in range(nthr)]
        specs = [(self.ingest, (g,)) for g in groups]
        specs += [(self.editor, (100 + k,)) for k in range(a.editors)]
        specs += [(self.lister, (200 + k,)) for k in range(a.listers)]
        specs += [(self.retention, ())]
        for fn, args in specs:
            th = threading.Thread(target=self.guard, args=(fn, args), daemon=True)
            th.start()
            self.threads.append(th)
        smp = threading.Thread(target=self.guard, args=(self.sampler, ()), daemon=True)
        smp.start()
        deadline = time.monotonic() + a.duration
        while time.monotonic() < deadline and not self.fatal:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        self.load_duration = self.elapsed()
        self.stop.set()
        for th in self.threads:
            th.join(120)
        smp.join(120)
        self.proc_last = proc_sample(a.pid) if a.pid else None
        self.drain(cl)
        self.recv.terminate()
        self.recv.join(5)
        self.load_end = open("/proc/loadavg").read().split()[:3]

    def guard(self, fn, args):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - a crashed driver thread fails the run
            import traceback
            traceback.print_exc()
            self.fatal.append("%s: %r" % (fn.__name__, e))
            self.stop.set()

    def drain(self, cl):
        """Wait until every expected event arrived (or --drain-timeout), then one second more
        to catch duplicates."""
        t0 = time.monotonic()
        want = sum(self.expect.total.values())
        depth = None
        tail = EventTail(self.events_path)
        while time.monotonic() - t0 < self.a.drain_timeout:
            got = tail.count()
            m = self.scrape(cl)
            depth = m.get("tams_webhook_queue_depth") if m else None
            if m is not None:
                self.metrics_last = m
            if got >= want and depth == 0:
                break
            time.sleep(0.25)
        time.sleep(1.0)
        m = self.scrape(cl)
        if m is not None:
            self.metrics_last = m
        self.drain_s = time.monotonic() - t0


# ---- analysis -----------------------------------------------------------------------------------


def check_webhooks(run):
    evs = read_events(run.events_path)
    got = collections.defaultdict(list)
    bad = []
    lags = []
    for e in evs:
        if "bad" in e or "key" not in e or not e.get("key_ok"):
            bad.append(e)
            continue
        got[(e["path"], e["key"])].append(e)
        if e.get("ts"):
            ts = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
            lags.append((e["t"] - ts) * 1000.0)
    res = {"expected": dict(run.expect.total),
           "received": collections.Counter(e["path"] for e in evs),
           "lost": 0, "duplicated_or_unexpected": 0, "order_violations": 0, "malformed": len(bad),
           "examples": []}
    keys = set(run.expect.by) | set(got)
    for k in sorted(keys):
        exp = collections.Counter(run.expect.by.get(k, []))
        rcv = [(e["type"], e.get("tr") if e["type"].startswith("flows/segments") else None)
               for e in got.get(k, [])]
        rc = collections.Counter(rcv)
        # the driver records the timerange of segment events only
        exp = collections.Counter({(t, r if t.startswith("flows/segments") else None): n
                                   for (t, r), n in exp.items()})
        lost = exp - rc
        extra = rc - exp
        res["lost"] += sum(lost.values())
        res["duplicated_or_unexpected"] += sum(extra.values())
        if lost and len(res["examples"]) < 10:
            res["examples"].append("lost on %s %s: %s" % (k[0], k[1], list(lost.items())[:3]))
        if extra and len(res["examples"]) < 10:
            res["examples"].append("extra on %s %s: %s" % (k[0], k[1], list(extra.items())[:3]))
        # order per flow (or source)
        seq = got.get(k, [])
        viol = []
        created = "sources/created" if k[1].startswith("source:") else "flows/created"
        deleted = "sources/deleted" if k[1].startswith("source:") else "flows/deleted"
        types = [e["type"] for e in seq]
        if created in types and types[0] != created:
            viol.append("%s not first" % created)
        if deleted in types and types[-1] != deleted:
            viol.append("%s not last" % deleted)
        last_add = last_del = None
        added_at = {}
        for pos, e in enumerate(seq):
            if e["type"] == "flows/segments_added":
                lo = tr_lo(e["tr"])
                if last_add is not None and lo <= last_add:
                    viol.append("segments_added %s after %d" % (e["tr"], last_add))
                last_add = lo
                added_at[lo] = pos
            elif e["type"] == "flows/segments_deleted":
                lo = tr_lo(e["tr"])
                if last_del is not None and lo <= last_del:
                    viol.append("segments_deleted %s after %d" % (e["tr"], last_del))
                last_del = lo
                hi = int(e["tr"].split("_")[1].split(":")[0])
                for s in range(lo, hi, SEG_S):
                    if s in added_at and added_at[s] > pos:
                        viol.append("segments_deleted %s before the add of %d" % (e["tr"], s))
        res["order_violations"] += len(viol)
        for v in viol[:2]:
            if len(res["examples"]) < 10:
                res["examples"].append("order on %s %s: %s" % (k[0], k[1], v))
    lags.sort()
    res["lag_ms"] = {"p50": pct(lags, 50), "p99": pct(lags, 99),
                     "max": lags[-1] if lags else float("nan")}
    res["received"] = dict(res["received"])
    return res


def op_table(run):
    dur = max(run.load_duration, 1e-6)
    rows = []
    for op, what in OPS.items():
        lat = sorted(run.rec.lat[op])
        errs = run.rec.errors[op]
        n5 = sum(v for k, v in errs.items() if "5xx" in k)
        rows.append({"op": op, "what": what, "count": len(lat), "errors": sum(errs.values()),
                     "errors_5xx": n5, "error_reasons": dict(errs), "rate_per_s": len(lat) / dur,
                     "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "p999_ms": pct(lat, 99.9),
                     "max_ms": lat[-1] if lat else float("nan")})
    return rows


def flatness(timeline, col, min_abs, rel):
    """Slope of a line fitted to the second half of the samples, per hour, and whether the
    change it projects over that half stays below max(min_abs, rel * mean)."""
    pts = [(r["t"], r[col]) for r in timeline if r.get(col) is not None and r[col] == r[col]]
    if len(pts) < 6:
        return {"judged": False, "why": "too few samples"}
    half = pts[len(pts) // 2:]
    xs, ys = [p[0] for p in half], [p[1] for p in half]
    slope, icpt = linfit(xs, ys)
    span = xs[-1] - xs[0]
    mean = sum(ys) / len(ys)
    change = slope * span
    bound = max(min_abs, rel * mean)
    return {"judged": True, "slope_per_hour": slope * 3600.0, "second_half_s": span,
            "projected_change": change, "bound": bound, "mean": mean, "first": pts[0][1],
            "last": pts[-1][1], "max": max(p[1] for p in pts), "min": min(p[1] for p in pts),
            "flat": abs(change) <= bound, "fit": (slope, icpt), "from_t": xs[0]}


def server_routes(mf, ml):
    """Per route, tamsd's own request count and mean time over the run (histogram sum/count)."""
    out = []
    for k, v in (ml or {}).items():
        if k.startswith("tams_http_request_duration_seconds_count{"):
            route = k.split('route="')[1].split('"')[0]
            n = v - mf.get(k, 0.0)
            ksum = k.replace("_count{", "_sum{")
            t = ml.get(ksum, 0.0) - mf.get(ksum, 0.0)
            if n > 0:
                out.append({"route": route, "count": n, "mean_ms": 1000.0 * t / n})
    return sorted(out, key=lambda r: -r["count"])


def server_statuses(m):
    out = collections.Counter()
    for k, v in (m or {}).items():
        if k.startswith("tams_http_requests_total{"):
            st = k.split('status="')[1].split('"')[0]
            out[st[0] + "xx"] += v
    return out


def fmt(v, nd=2):
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def report(run, argv):
    a = run.a
    ops = op_table(run)
    wh = check_webhooks(run)
    rss = flatness(run.timeline, "rss_mb", 1.0, 0.02)
    fds = flatness(run.timeline, "fds", 2.0, 0.05)
    mf, ml = run.metrics_first or {}, run.metrics_last or {}
    cache = {}
    for kind in ("flow", "source"):
        name = "tams_%s_cache_requests_total" % kind
        h = ml.get(name + '{result="hit"}', 0) - mf.get(name + '{result="hit"}', 0)
        mi = ml.get(name + '{result="miss"}', 0) - mf.get(name + '{result="miss"}', 0)
        cache[kind] = {"hits": h, "misses": mi, "ratio": h / (h + mi) if h + mi else float("nan"),
                       # tamsd's own gauge: since its start, so it includes the setup's reads
                       "tamsd_ratio": ml.get("tams_%s_cache_hit_ratio" % kind, float("nan")),
                       "entries": ml.get("tams_%s_cache_entries" % kind, float("nan")),
                       "bytes": ml.get("tams_%s_cache_bytes" % kind, float("nan"))}
    srv_status = server_statuses(ml)
    webhook_metrics = {k: ml.get(k, float("nan")) - mf.get(k, 0.0) for k in (
        "tams_webhook_deliveries_total", "tams_webhook_failed_attempts_total",
        "tams_webhook_given_up_total")}
    webhook_metrics["tams_webhook_queue_depth (end)"] = ml.get("tams_webhook_queue_depth",
                                                               float("nan"))
    reasons = []
    for o in ops:
        if o["errors"]:
            reasons.append("%s: %d errors (%s)" % (o["op"], o["errors"], ", ".join(
                "%s x%d" % kv for kv in o["error_reasons"].items())))
    if srv_status.get("5xx"):
        reasons.append("tamsd counted %d 5xx answers in /metrics" % srv_status["5xx"])
    if wh["lost"]:
        reasons.append("%d webhook events lost" % wh["lost"])
    if wh["duplicated_or_unexpected"]:
        reasons.append("%d webhook events duplicated or unexpected"
                       % wh["duplicated_or_unexpected"])
    if wh["order_violations"]:
        reasons.append("%d webhook order violations" % wh["order_violations"])
    if wh["malformed"]:
        reasons.append("%d malformed webhook deliveries" % wh["malformed"])
    if webhook_metrics["tams_webhook_given_up_total"]:
        reasons.append("tamsd gave up %d webhook events"
                       % webhook_metrics["tams_webhook_given_up_total"])
    if run.fatal:
        reasons.append("driver thread failed: " + "; ".join(run.fatal))
    for name, fl in (("RSS", rss), ("open fds", fds)):
        if a.judge_flat and fl["judged"] and not fl["flat"]:
            reasons.append("%s not flat in the second half (%+.2f over %.0f s, bound %.2f)" % (
                name, fl["projected_change"], fl["second_half_s"], fl["bound"]))
    warnings = ["%s never ran (a run too short for its scale?)" % o["op"]
                for o in ops if o["count"] == 0]
    verdict = "FAIL" if reasons else "PASS"

    plots, plotter = write_plots(run, rss, fds)
    total = sum(o["count"] for o in ops)
    summary = {
        "verdict": verdict, "reasons": reasons, "command": argv,
        "started": run.started_at.isoformat(),
        "duration_s": run.load_duration, "drain_s": run.drain_s, "label": a.label,
        "database": a.db_label, "tamsd": a.tamsd_label, "machine": a.machine,
        "loadavg_start": run.load_start, "loadavg_end": run.load_end,
        "loadavg_samples": {"min": min((r["load1"] for r in run.timeline), default=None),
                            "median": pct(sorted(r["load1"] for r in run.timeline), 50),
                            "max": max((r["load1"] for r in run.timeline), default=None)},
        "scale": {k: getattr(a, k) for k in ("scale", "flows", "speed", "editors", "listers",
                                             "ingest_threads", "lifetime", "keep", "trim_every",
                                             "trim_chunk", "alloc_batch", "static_flows", "think",
                                             "sample_every")},
        "segments_per_s_target": a.flows * a.speed / SEG_S, "ingest_late": run.ingest_late,
        "operations": ops, "requests_total": total,
        "requests_per_s": total / max(run.load_duration, 1e-6),
        "webhooks": wh, "webhook_metrics": webhook_metrics, "cache": cache,
        "server_statuses": dict(srv_status), "server_routes": server_routes(mf, ml),
        "warnings": warnings, "rss_mb": rss, "fds": fds,
        "tamsd_cpu_s": ((run.proc_last[3] - run.proc_first[3])
                        if run.proc_first and run.proc_last else None),
        "notes": dict(run.rec.notes), "plots": plots, "plotter": plotter,
    }
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    write_timeline(run)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(markdown(summary))
    return summary


def write_timeline(run):
    cols = []
    for r in run.timeline:
        for k in r:
            if k not in cols:
                cols.append(k)
    with open(os.path.join(run.a.out, "timeline.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for r in run.timeline:
            f.write(",".join(fmt(r.get(k), 4) if isinstance(r.get(k), float) else str(r.get(k, ""))
                             for k in cols) + "\n")


def markdown(s):
    L = []
    w = L.append
    w("# tamsd stress run: **%s**" % s["verdict"])
    w("")
    if s["reasons"]:
        w("Why it failed:")
        w("")
        for r in s["reasons"]:
            w("- " + r)
        w("")
    for x in s["warnings"]:
        w("Warning: " + x)
        w("")
    w("- command: `%s`" % " ".join(s["command"]))
    w("- started %s, load phase %.0f s, webhook drain %.1f s"
      % (s["started"], s["duration_s"], s["drain_s"]))
    w("- tamsd: %s; metadata: %s" % (s["tamsd"], s["database"]))
    w("- machine: %s" % s["machine"])
    la = s["loadavg_samples"]
    w("- load average (1 min): %s at the start, %s at the end; during the run min %s, "
      "median %s, max %s" % (s["loadavg_start"][0], s["loadavg_end"][0], fmt(la["min"]),
                             fmt(la["median"]), fmt(la["max"])))
    sc = s["scale"]
    w("- scale `%s`: %d live flows, a 2 s segment per flow every %.2f s (%.1f segments/s), flows "
      "rotated every %.0f s, %d editors, %d listers, retention keeps %.0f s (trim every %.1f s, "
      "up to %d segments), %d static flows, %d ingest threads, think time %.3f s" % (
          sc["scale"], sc["flows"], SEG_S / sc["speed"], s["segments_per_s_target"], sc["lifetime"],
          sc["editors"], sc["listers"], sc["keep"], sc["trim_every"], sc["trim_chunk"],
          sc["static_flows"], sc["ingest_threads"], sc["think"]))
    if s["label"]:
        w("- label: %s" % s["label"])
    w("")
    w("## Operations")
    w("")
    w("Latency is measured by the driver (Python, on the same machine): request sent to body read.")
    w("")
    w("| operation | request | count | per s | errors | p50 ms | p99 ms | p99.9 ms | max ms |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for o in s["operations"]:
        w("| %s | `%s` | %d | %.1f | %s | %s | %s | %s | %s |" % (
            o["op"], o["what"], o["count"], o["rate_per_s"],
            ("**%d**" % o["errors"]) if o["errors"] else "0",
            fmt(o["p50_ms"], 3), fmt(o["p99_ms"], 3), fmt(o["p999_ms"], 3), fmt(o["max_ms"], 1)))
    w("")
    w("All operations: %d requests, %.1f per second. tamsd's own count of answers by class "
      "(from /metrics, whole run including setup): %s. Ingest ticks more than one period late: %d."
      % (s["requests_total"], s["requests_per_s"],
         ", ".join("%s %d" % (k, v) for k, v in sorted(s["server_statuses"].items())) or "-",
         s["ingest_late"]))
    if s["tamsd_cpu_s"] is not None:
        w("tamsd used %.1f s of CPU in the load phase (%.0f%% of one core, %.0f us per request)."
          % (s["tamsd_cpu_s"], 100 * s["tamsd_cpu_s"] / max(s["duration_s"], 1e-6),
             1e6 * s["tamsd_cpu_s"] / max(s["requests_total"], 1)))
    if s["notes"]:
        w("Notes: " + "; ".join("%s: %d" % kv for kv in s["notes"].items()))
    w("")
    w("tamsd's own view of the same load phase (from `tams_http_request_duration_seconds`: "
      "requests and mean time from request start to response queued, per route template, "
      "methods together):")
    w("")
    w("| route | requests | mean ms |")
    w("|---|---:|---:|")
    for r in s["server_routes"]:
        w("| `%s` | %d | %.3f |" % (r["route"], r["count"], r["mean_ms"]))
    w("")
    w("## Webhooks")
    w("")
    wh = s["webhooks"]
    w("| webhook | expected | received |")
    w("|---|---:|---:|")
    for p in sorted(set(wh["expected"]) | set(wh["received"])):
        w("| `%s` | %d | %d |" % (p, wh["expected"].get(p, 0), wh["received"].get(p, 0)))
    w("")
    w("Lost %d, duplicated or unexpected %d, order violations %d (per flow and source: created "
      "first, deleted last, segments_added and segments_deleted in timeline order, a deletion "
      "after the additions it removes), malformed %d. Delivery lag (event_timestamp to receipt) "
      "p50 %s ms, p99 %s ms, max %s ms." % (
          wh["lost"], wh["duplicated_or_unexpected"], wh["order_violations"], wh["malformed"],
          fmt(wh["lag_ms"]["p50"], 1), fmt(wh["lag_ms"]["p99"], 1), fmt(wh["lag_ms"]["max"], 1)))
    wm = s["webhook_metrics"]
    w("tamsd /metrics over the run: "
      + ", ".join("%s %s" % (k, fmt(v, 0)) for k, v in wm.items()) + ".")
    for ex in wh["examples"]:
        w("- " + ex)
    w("")
    w("## Caches")
    w("")
    for kind in ("flow", "source"):
        c = s["cache"][kind]
        w("- %s cache (`tams_%s_cache_requests_total`): %d hits, %d misses over the run, hit "
          "ratio **%s**; tamsd's `tams_%s_cache_hit_ratio` at the end %s (since its start); "
          "%s entries, %s MB at the end" % (
              kind, kind, c["hits"], c["misses"], fmt(c["ratio"], 3), kind,
              fmt(c.get("tamsd_ratio", float("nan")), 3), fmt(c.get("entries", float("nan")), 0),
              fmt(c.get("bytes", float("nan")) / 1048576.0, 2)))
    w("")
    w("## Resources")
    w("")
    w("Sampled from /proc every %.1f s. Judged on the second half of the run: the slope of a "
      "least-squares line through the samples, and the change it projects over that half, "
      "against max(1 MB, 2%% of the mean) for RSS and max(2, 5%% of the mean) for fds."
      % s["scale"]["sample_every"])
    w("")
    w("| measure | first | last | min | max | slope per hour (2nd half) "
      "| change over 2nd half | flat |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, key, unit in (("tamsd RSS", "rss_mb", "MB"), ("tamsd open fds", "fds", "")):
        fl = s[key]
        if not fl.get("judged"):
            w("| %s | - | - | - | - | - | - | not judged (%s) |" % (name, fl.get("why")))
            continue
        w("| %s | %s | %s | %s | %s | %+.2f %s | %+.2f %s (bound %.2f) | %s |" % (
            name, fmt(fl["first"]), fmt(fl["last"]), fmt(fl["min"]), fmt(fl["max"]),
            fl["slope_per_hour"], unit, fl["projected_change"], unit, fl["bound"],
            "yes" if fl["flat"] else "**no**"))
    w("")
    if s["plots"]:
        w("## Plots")
        w("")
        w("Drawn by %s." % s["plotter"])
        w("")
        for p in s["plots"]:
            w("![%s](%s)" % (p, p))
        w("")
    return "\n".join(L) + "\n"


# ---- plots --------------------------------------------------------------------------------------


def plot_specs(run, rss, fds):
    """[(file, title, [panel]), ...]; a panel is (ylabel, logy, [(label, column)])."""
    ops = [op for op in OPS if op != "metrics"]
    specs = [
        ("throughput.png", "Throughput (requests per second, per sample interval)", [
            ("req/s, all", False, [("all operations", "total_rps")]),
            ("req/s", True, [(op, op + "_rps") for op in ops]),
        ]),
        ("latency.png", "Latency per sample interval (ms, log scale)", [
            ("p50 ms", True, [(op, op + "_p50_ms") for op in ops]),
            ("p99 ms", True, [(op, op + "_p99_ms") for op in ops]),
        ]),
        ("resources.png", "tamsd resources (dashed: line fitted to the second half)", [
            ("RSS MB", False, [("tamsd RSS", "rss_mb"), ("fit", "rss_fit")] +
             ([("PostgreSQL RSS", "pg_rss_mb")] if run.a.pg_pid else [])),
            ("open fds", False, [("tamsd fds", "fds"), ("fit", "fds_fit")]),
            ("CPU % of a core", False, [("tamsd", "cpu_pct")] +
             ([("PostgreSQL", "pg_cpu_pct")] if run.a.pg_pid else [])),
            ("load average", False, [("load average (1 min)", "load1")]),
        ]),
        ("cache.png", "Flow and source caches: hit ratio per sample interval, memory held", [
            ("hit ratio", False, [("flow cache", "flow_cache_hit_ratio"),
                                  ("source cache", "source_cache_hit_ratio")]),
            ("cache MB", False, [("flow cache", "flow_cache_mb"),
                                 ("source cache", "source_cache_mb")]),
        ]),
        ("webhooks.png", "Webhooks", [
            ("events/s", False, [("delivered (tamsd)", "webhook_delivered_ps"),
                                 ("received", "webhook_received_ps")]),
            ("events", False, [("queue depth", "webhook_queue_depth"),
                               ("expected - received", "webhook_backlog")]),
        ]),
    ]
    for r in run.timeline:
        for col, fl in (("rss_fit", rss), ("fds_fit", fds)):
            if fl.get("judged") and r["t"] >= fl["from_t"]:
                r[col] = fl["fit"][0] * r["t"] + fl["fit"][1]
        if "webhook_expected_total" in r:
            r["webhook_backlog"] = r["webhook_expected_total"] - r["webhook_received_total"]
    return specs


def write_plots(run, rss, fds):
    if run.a.plotter == "none":
        return [], "nobody"
    specs = plot_specs(run, rss, fds)
    plotter = run.a.plotter
    if plotter == "auto":
        plotter = "gnuplot" if shutil.which("gnuplot") else "builtin"
    files = []
    for spec in specs:
        try:
            if plotter == "gnuplot":
                gnuplot(run, *spec)
            else:
                builtin_plot(run, *spec)
            files.append(spec[0])
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            sys.stderr.write("stress: plot %s failed (%r); drawing it with the builtin writer\n"
                             % (spec[0], e))
            builtin_plot(run, *spec)
            files.append(spec[0])
    return files, ("gnuplot" if plotter == "gnuplot"
                   else "the builtin PNG writer (bench/stress.py)")


def series(run, col):
    xs, ys = [], []
    for r in run.timeline:
        v = r.get(col)
        if isinstance(v, (int, float)) and v == v:
            xs.append(r["t"])
            ys.append(float(v))
    return xs, ys


def gnuplot(run, name, title, panels):
    out = os.path.join(run.a.out, name)
    datdir = os.path.join(run.a.out, ".plotdata")
    os.makedirs(datdir, exist_ok=True)
    minutes = run.timeline and run.timeline[-1]["t"] > 600
    sc = ["set terminal pngcairo size 1200,%d font 'sans,9'" % (320 * len(panels) + 40),
          "set output '%s'" % out, "set multiplot layout %d,1 title '%s'" % (len(panels), title),
          "set grid", "set key outside right top",
          "set xlabel '%s'" % ("minutes" if minutes else "seconds")]
    for k, (ylabel, logy, ser) in enumerate(panels):
        sc.append("set ylabel '%s'" % ylabel)
        sc.append("set logscale y" if logy else "unset logscale y")
        parts = []
        for j, (label, col) in enumerate(ser):
            xs, ys = series(run, col)
            if logy:
                pos = [(x, y) for x, y in zip(xs, ys) if y > 0]
                xs, ys = [p[0] for p in pos], [p[1] for p in pos]
            if not xs:
                continue
            path = os.path.join(datdir, "%s.%d.%d.dat" % (name, k, j))
            with open(path, "w") as f:
                for x, y in zip(xs, ys):
                    f.write("%.3f %.6g\n" % (x / 60.0 if minutes else x, y))
            rgb = "#%02x%02x%02x" % PALETTE[j % len(PALETTE)]
            style = ("lines dt 2 lw 2 lc rgb '%s'" % rgb if label == "fit" else
                     "lines lw 1.5 dt %d lc rgb '%s'" % (1 + j // len(PALETTE), rgb))
            parts.append("'%s' using 1:2 with %s title '%s'"
                         % (path, style, label.replace("_", " ")))
        if parts:
            sc.append("plot " + ", ".join(parts))
        else:
            sc.append("set label 1 'no data' at graph 0.5,0.5 center")
            sc.append("plot [0:1] [0:1] NaN notitle")
            sc.append("unset label 1")
    sc.append("unset multiplot")
    p = subprocess.run(["gnuplot"], input="\n".join(sc) + "\n", text=True, capture_output=True,
                       timeout=60)
    if p.returncode != 0 or not os.path.exists(out):
        raise ValueError("gnuplot: " + p.stderr[-500:])


# A 5x7 font (columns, bit 0 at the top) for the builtin PNG writer; text is drawn upper case.
FONT = {
    " ": "0000000000", "!": "00005f0000", "%": "2313086462", "'": "0000070000",
    "(": "001c224100", ")": "0041221c00", "*": "14083e0814", "+": "08083e0808",
    ",": "0050300000", "-": "0808080808", ".": "0060600000", "/": "2010080402",
    "0": "3e5149453e", "1": "00427f4000", "2": "4261514946", "3": "2141454b31",
    "4": "1814127f10", "5": "2745454539", "6": "3c4a494930", "7": "0171090503",
    "8": "3649494936", "9": "064949291e", ":": "0036360000", "=": "1414141414",
    "<": "0814224100", ">": "0041221408", "A": "7e1111117e", "B": "7f49494936",
    "C": "3e41414122", "D": "7f4141221c", "E": "7f49494941", "F": "7f09090901",
    "G": "3e4149497a", "H": "7f0808087f", "I": "00417f4100", "J": "2040413f01",
    "K": "7f08142241", "L": "7f40404040", "M": "7f020c027f", "N": "7f0408107f",
    "O": "3e4141413e", "P": "7f09090906", "Q": "3e4151215e", "R": "7f09192946",
    "S": "4649494931", "T": "01017f0101", "U": "3f4040403f", "V": "1f2040201f",
    "W": "3f4038403f", "X": "6314081463", "Y": "0708700807", "Z": "6151494543",
    "[": "007f414100", "]": "0041417f00", "_": "4040404040", "|": "00007f0000",
    "{": "0008364100", "}": "0041360800", "?": "0201510906", "#": "147f147f14",
}
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
           (0, 0, 0), (120, 120, 255)]


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def rect(self, x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(self.h, y1)):
            i = (y * self.w + max(0, x0)) * 3
            n = max(0, min(self.w, x1) - max(0, x0))
            self.px[i:i + 3 * n] = bytes(c) * n

    def line(self, x0, y0, x1, y1, c, dashed=False):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, k = dx + dy, 0
        while True:
            if not dashed or (k // 4) % 2 == 0:
                self.dot(x0, y0, c)
                self.dot(x0, y0 + 1, c)
            k += 1
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, s, c=(0, 0, 0)):
        for ch in str(s).upper():
            g = FONT.get(ch, FONT["?"])
            for col in range(5):
                bits = int(g[2 * col:2 * col + 2], 16)
                for row in range(7):
                    if bits >> row & 1:
                        self.dot(x + col, y + row, c)
            x += 6
        return x

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3])
                       for y in range(self.h))

        def chunk(tag, data):
            return (struct.pack(">I", len(data)) + tag + data +
                    struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
        ihdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6))
                + chunk(b"IEND", b""))


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=mag * 10)
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + step * 1e-9:
        out.append(t)
        t += step
    return out


def label_num(v):
    if v == 0:
        return "0"
    if abs(v) >= 100 or v == int(v):
        return "%d" % round(v)
    if abs(v) >= 1:
        return "%.1f" % v
    return ("%.3f" % v).rstrip("0")


def builtin_plot(run, name, title, panels):
    W, PH, TOP, LM, RM = 1200, 300, 30, 70, 230
    cv = Canvas(W, TOP + PH * len(panels) + 10)
    cv.text(LM, 10, title)
    minutes = run.timeline and run.timeline[-1]["t"] > 600
    for k, (ylabel, logy, ser) in enumerate(panels):
        y0 = TOP + k * PH + 10
        x0, x1, yb = LM, W - RM, y0 + PH - 40
        data = []
        for j, (label, col) in enumerate(ser):
            xs, ys = series(run, col)
            if logy:
                pts = [(x, math.log10(y)) for x, y in zip(xs, ys) if y > 0]
            else:
                pts = list(zip(xs, ys))
            if pts:
                data.append((label, PALETTE[j % len(PALETTE)], pts))
        cv.rect(x0, y0, x1, y0 + 1, (0, 0, 0))
        cv.rect(x0, yb, x1, yb + 1, (0, 0, 0))
        cv.rect(x0, y0, x0 + 1, yb, (0, 0, 0))
        cv.rect(x1, y0, x1 + 1, yb, (0, 0, 0))
        cv.text(x0, y0 - 10, ylabel)
        if not data:
            cv.text((x0 + x1) // 2 - 20, (y0 + yb) // 2, "no data")
            continue
        allx = [p[0] for d in data for p in d[2]]
        ally = [p[1] for d in data for p in d[2]]
        xlo, xhi = min(allx), max(allx)
        if xhi <= xlo:
            xhi = xlo + 1
        if logy:
            ylo, yhi = math.floor(min(ally)), math.ceil(max(ally))
            if yhi <= ylo:
                yhi = ylo + 1
            yt = [(v, label_num(10 ** v)) for v in range(int(ylo), int(yhi) + 1)]
        else:
            ylo, yhi = min(0.0, min(ally)), max(ally)
            if yhi <= ylo:
                yhi = ylo + 1
            ticks = nice_ticks(ylo, yhi)
            yhi = max(yhi, ticks[-1])
            yt = [(v, label_num(v)) for v in ticks]

        def X(x):
            return int(x0 + (x - xlo) / (xhi - xlo) * (x1 - x0 - 1))

        def Y(y):
            return int(yb - (y - ylo) / (yhi - ylo) * (yb - y0 - 4))
        for v, lab in yt:
            yy = Y(v)
            if y0 <= yy <= yb:
                cv.rect(x0 + 1, yy, x1, yy + 1, (225, 225, 225))
                cv.text(x0 - 6 * len(lab) - 4, yy - 3, lab)
        scale = 60.0 if minutes else 1.0
        for v in nice_ticks(xlo / scale, xhi / scale, 8):
            xx = X(v * scale)
            if x0 <= xx <= x1:
                cv.rect(xx, y0 + 1, xx + 1, yb, (235, 235, 235))
                lab = label_num(v)
                cv.text(xx - 3 * len(lab), yb + 6, lab)
        cv.text(x1 - 60, yb + 18, "minutes" if minutes else "seconds")
        for j, (label, color, pts) in enumerate(data):
            dashed = label == "fit"
            for (xa, ya), (xb, yb2) in zip(pts, pts[1:]):
                cv.line(X(xa), Y(ya), X(xb), Y(yb2), color, dashed)
            if len(pts) == 1:
                px, py = X(pts[0][0]), Y(pts[0][1])
                cv.rect(px - 1, py - 1, px + 2, py + 2, color)
            ly = y0 + 6 + 12 * j
            cv.rect(x1 + 10, ly, x1 + 22, ly + 7, color)
            cv.text(x1 + 28, ly, label.replace("_", " ")[:32])
    with open(os.path.join(run.a.out, name), "wb") as f:
        f.write(cv.png())


# ---- command line -------------------------------------------------------------------------------


def parse_duration(text):
    t = text.strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}
    if t and t[-1] in mult:
        return float(t[:-1]) * mult[t[-1]]
    return float(t)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    scales = "\n".join("  %-7s %s" % (k, ", ".join("%s=%s" % kv for kv in v.items()))
                       for k, v in SCALES.items())
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scales (--scale sets the defaults, any option overrides):\n" + scales)
    ap.add_argument("--url", required=True, help="tamsd base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--pid", type=int, default=0, help="tamsd's pid, for /proc sampling")
    ap.add_argument("--pg-pid", type=int, default=0,
                    help="PostgreSQL postmaster pid (sampled with its children)")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--duration", type=parse_duration, default=60.0,
                    help="load phase: 90, 20s, 30m, 1h")
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--flows", type=int, help="live flows")
    ap.add_argument("--speed", type=float,
                    help="media seconds per wall second per flow (1 = real time)")
    ap.add_argument("--editors", type=int, help="editor threads")
    ap.add_argument("--listers", type=int, help="lister threads")
    ap.add_argument("--ingest-threads", type=int, default=4)
    ap.add_argument("--lifetime", type=float, help="seconds a live flow lives before its slot "
                    "deletes and replaces it (0: never)")
    ap.add_argument("--keep", type=float, help="media seconds of each flow the retention keeps")
    ap.add_argument("--trim-every", type=float, help="seconds between retention passes")
    ap.add_argument("--trim-chunk", type=int, default=10, help="most segments one deletion removes")
    ap.add_argument("--alloc-batch", type=int, default=5,
                    help="objects per POST /flows/{id}/storage")
    ap.add_argument("--static-flows", type=int, help="flows created before the run, for listings")
    ap.add_argument("--think", type=float, help="mean think time of editors (listers: 5x), seconds")
    ap.add_argument("--sample-every", type=float, help="seconds between samples")
    ap.add_argument("--drain-timeout", type=float, default=60.0,
                    help="seconds to wait for webhook deliveries after the load")
    ap.add_argument("--judge-flat", action="store_true",
                    help="fail the run when RSS or fds are not flat in the second half")
    ap.add_argument("--plotter", choices=("auto", "gnuplot", "builtin", "none"), default="auto")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the plots of --out from its timeline.csv (with --plotter)")
    ap.add_argument("--label", default="", help="free text for the report")
    ap.add_argument("--db-label", default="", help="what the metadata store is (for the report)")
    ap.add_argument("--tamsd-label", default="", help="which tamsd (for the report)")
    a = ap.parse_args(argv)
    for k, v in SCALES[a.scale].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.flows < 1 or a.speed <= 0 or a.editors < 0 or a.listers < 0 or a.duration <= 0:
        ap.error("flows >= 1, speed > 0, editors/listers >= 0 and duration > 0")
    os.makedirs(a.out, exist_ok=True)
    if a.replot:
        return replot(a)
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    a.machine = "%d cores, %s" % (os.cpu_count(), model)
    a.db_label = a.db_label or "(not given)"
    a.tamsd_label = a.tamsd_label or a.url
    run = Run(a)
    run.run()
    s = report(run, ["bench/stress.py"] + argv if not os.environ.get("STRESS_COMMAND")
               else os.environ["STRESS_COMMAND"].split(" "))
    print(json.dumps({"verdict": s["verdict"], "out": a.out, "requests": s["requests_total"],
                      "reasons": s["reasons"]}))
    return 0 if s["verdict"] == "PASS" else 1


def replot(a):
    """Redraw the plots from timeline.csv (e.g. with the other plotter)."""
    class R:
        pass
    run = R()
    run.a = a
    a.pg_pid = a.pg_pid or 0
    run.timeline = []
    with open(os.path.join(a.out, "timeline.csv")) as f:
        cols = f.readline().strip().split(",")
        for line in f:
            row = {}
            for k, v in zip(cols, line.strip().split(",")):
                try:
                    row[k] = float(v)
                except ValueError:
                    pass
            run.timeline.append(row)
    if any("pg_rss_mb" in r for r in run.timeline):
        a.pg_pid = -1
    rss = flatness(run.timeline, "rss_mb", 1.0, 0.02)
    fds = flatness(run.timeline, "fds", 2.0, 0.05)
    files, who = write_plots(run, rss, fds)
    print(json.dumps({"plots": files, "plotter": who}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
