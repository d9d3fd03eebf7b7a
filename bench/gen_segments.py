#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Segment-data generator for tamsd: fills a flow with N segments through the TAMS API.

Modes
  fill  (default) PUT the flow (with a container) unless --no-create, allocate one object with
        POST /flows/{id}/storage, PUT a few bytes to its put_url, register it once, then
        register every other segment reusing that object id, in POST arrays of --batch
        segments over --conns persistent connections. Segment i is
        [(first+i)*dur:0_(first+i+1)*dur:0); batches are disjoint, so nothing overlaps.
  fresh Bulk registration with a fresh object per segment: phase 1 allocates the objects with
        POST /flows/{id}/storage {"limit": batch} (ids are server generated and time ordered)
        and PUTs a few bytes to each put_url (timed apart: upload_s), since tamsd checks at
        registration that an allocated object was uploaded (verify_uploads); phase 2 registers
        them (bodies built before the clock starts) in POST arrays of --batch, so register_s
        includes that check.

Prints one JSON object on stdout with the timings. Exits non-zero on the first failed request.
Only the standard library; stays on the URL it is given (127.0.0.1 in bench/).
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

FLOW_TEMPLATE = {
    "source_id": None,
    "format": "urn:x-nmos:format:video",
    "codec": "video/h264",
    "container": "video/mp2t",
    "label": "bench segments",
    "tags": {"bench": "segments"},
    "essence_parameters": {"frame_width": 1920, "frame_height": 1080,
                           "frame_rate": {"numerator": 50, "denominator": 1}},
}


class Client:
    """One persistent HTTP/1.1 connection to the server."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def request(self, method, path, body=None, ctype="application/json"):
        headers = {"Content-Type": ctype} if body is not None else {}
        if isinstance(body, str):
            body = body.encode()
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def die(msg):
    sys.stderr.write("gen_segments: %s\n" % msg)
    sys.exit(1)


def seg_body(first, n, dur, object_ids):
    """JSON array of n segments starting at segment index first; object_ids is one id or a list."""
    if isinstance(object_ids, str):
        oid = object_ids
        parts = ['{"object_id":"%s","timerange":"[%d:0_%d:0)"}' % (oid, (first + i) * dur,
                                                                  (first + i + 1) * dur)
                 for i in range(n)]
    else:
        parts = ['{"object_id":"%s","timerange":"[%d:0_%d:0)"}' % (object_ids[i], (first + i) * dur,
                                                                  (first + i + 1) * dur)
                 for i in range(n)]
    return "[" + ",".join(parts) + "]"


def check_post(status, body, what):
    if status != 201:
        die("%s: HTTP %d: %s" % (what, status, body[:400].decode(errors="replace")))


def allocate(cl, flow, limit):
    st, body = cl.request("POST", "/flows/%s/storage" % flow, json.dumps({"limit": limit}))
    if st != 201:
        die("POST storage: HTTP %d: %s" % (st, body[:400].decode(errors="replace")))
    return json.loads(body)["media_objects"]


_uploaders = threading.local()


def put_object(obj, data=b"tamsd bench"):
    """PUT data to obj's put_url over this thread's connection to that host."""
    u = urllib.parse.urlsplit(obj["put_url"]["url"])
    base = "%s://%s" % (u.scheme, u.netloc)
    clients = getattr(_uploaders, "clients", None)
    if clients is None:
        clients = _uploaders.clients = {}
    if base not in clients:
        clients[base] = Client(base)
    st, body = clients[base].request("PUT", u.path + ("?" + u.query if u.query else ""), data,
                                     obj["put_url"].get("content-type", "video/mp2t"))
    if st not in (200, 201, 204):
        die("PUT object: HTTP %d: %s" % (st, body[:200]))


def run_parallel(conns, base, jobs, work):
    """Run work(client, job) for every job over conns threads, each with its own connection."""
    lock = threading.Lock()
    it = iter(jobs)
    errors = []

    def worker():
        cl = Client(base)
        try:
            while True:
                with lock:
                    if errors:
                        return
                    job = next(it, None)
                if job is None:
                    return
                work(cl, job)
        except SystemExit as e:
            errors.append(e)
        except Exception as e:  # noqa: BLE001 - report any client failure and stop
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        die("worker failed: %r" % (errors[0],))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--flow", required=True, help="flow id")
    ap.add_argument("--source", default="7c9b7d5e-6f0b-4e4f-9a55-3c3b1f0b0b01")
    ap.add_argument("--count", type=int, required=True, help="segments to register")
    ap.add_argument("--first", type=int, default=0, help="index of the first segment")
    ap.add_argument("--dur", type=int, default=2, help="segment duration in seconds")
    ap.add_argument("--batch", type=int, default=1000, help="segments per POST")
    ap.add_argument("--conns", type=int, default=4, help="parallel connections")
    ap.add_argument("--mode", choices=("fill", "fresh"), default="fill")
    ap.add_argument("--no-create", action="store_true", help="the flow exists already")
    a = ap.parse_args()
    if a.count < 1 or a.batch < 1 or a.conns < 1 or a.dur < 1:
        die("count, batch, conns and dur must be positive")

    cl = Client(a.url)
    out = {"mode": a.mode, "flow": a.flow, "count": a.count, "first": a.first, "dur_s": a.dur,
           "batch": a.batch, "conns": a.conns}
    t0 = time.monotonic()
    if not a.no_create:
        doc = dict(FLOW_TEMPLATE, id=a.flow, source_id=a.source)
        st, body = cl.request("PUT", "/flows/%s" % a.flow, json.dumps(doc))
        if st not in (201, 204):
            die("PUT flow: HTTP %d: %s" % (st, body[:400].decode(errors="replace")))

    if a.mode == "fill":
        obj = allocate(cl, a.flow, 1)[0]
        put_object(obj)
        oid = obj["object_id"]
        st, body = cl.request("POST", "/flows/%s/segments" % a.flow, seg_body(a.first, 1, a.dur, oid)[1:-1])
        check_post(st, body, "POST first segment")
        t_reg = time.monotonic()
        jobs = [(a.first + i, min(a.batch, a.count - i)) for i in range(1, a.count, a.batch)]

        def work(c, job):
            s, b = c.request("POST", "/flows/%s/segments" % a.flow, seg_body(job[0], job[1], a.dur, oid))
            check_post(s, b, "POST segments at %d" % job[0])

        run_parallel(a.conns, a.url, jobs, work)
        t1 = time.monotonic()
        out.update(total_s=round(t1 - t0, 3), register_s=round(t1 - t_reg, 3),
                   segments_per_s=round((a.count - 1) / max(t1 - t_reg, 1e-9)), object_id=oid)
    else:
        # Phase 1: allocate one fresh object per segment.
        nalloc = [min(a.batch, a.count - i) for i in range(0, a.count, a.batch)]
        ids = [None] * len(nalloc)
        allocated = [None] * len(nalloc)
        ta = time.monotonic()

        def alloc_work(c, k):
            objs = allocate(c, a.flow, nalloc[k])
            if len(objs) != nalloc[k]:
                die("allocation returned %d objects, asked %d" % (len(objs), nalloc[k]))
            ids[k] = [o["object_id"] for o in objs]
            allocated[k] = objs

        run_parallel(a.conns, a.url, range(len(nalloc)), alloc_work)
        alloc_s = time.monotonic() - ta
        tu = time.monotonic()
        run_parallel(a.conns, a.url, [o for objs in allocated for o in objs],
                     lambda c, o: put_object(o))
        upload_s = time.monotonic() - tu
        # Bodies are built before the registration clock starts.
        bodies = [seg_body(a.first + k * a.batch, nalloc[k], a.dur, ids[k]) for k in range(len(nalloc))]
        tr = time.monotonic()

        def reg_work(c, k):
            s, b = c.request("POST", "/flows/%s/segments" % a.flow, bodies[k])
            check_post(s, b, "POST segments batch %d" % k)

        run_parallel(a.conns, a.url, range(len(bodies)), reg_work)
        reg_s = time.monotonic() - tr
        out.update(alloc_s=round(alloc_s, 3), upload_s=round(upload_s, 3),
                   register_s=round(reg_s, 3),
                   segments_per_s=round(a.count / reg_s),
                   segments_per_s_incl_alloc=round(a.count / (reg_s + alloc_s)),
                   total_s=round(time.monotonic() - t0, 3))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
