# SPDX-License-Identifier: Apache-2.0
"""The workload drivers: setup (static flows, webhooks, the live flows), then ingest,
editors, listers and retention threads for the duration, the sampler beside them, and the drain
of webhook deliveries at the end. Run holds everything the report reads."""
import datetime
import heapq
import json
import multiprocessing
import os
import random
import threading
import time
import urllib.parse
import uuid

from . import sampler
from .client import Clients, Recorder, timed
from .common import EVENTS, SEG_S, SOME_EVENTS, WINDOW_S, now_tai_s, tr
from .state import Expect, Flow, Pool
from .webhooks import EventTail, receiver_main


class Run:
    """One run: the options (a), the driver's threads and what they record (rec, expect,
    timeline, the first and last /metrics) for the report."""

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

    def scrape(self, cl):
        return sampler.scrape(self, cl)

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
        self.proc_first = sampler.proc_sample(a.pid) if a.pid else None
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
        smp = threading.Thread(target=self.guard, args=(sampler.sample_loop, (self,)),
                               daemon=True)
        smp.start()
        deadline = time.monotonic() + a.duration
        while time.monotonic() < deadline and not self.fatal:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        self.load_duration = self.elapsed()
        self.stop.set()
        for th in self.threads:
            th.join(120)
        smp.join(120)
        self.proc_last = sampler.proc_sample(a.pid) if a.pid else None
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
