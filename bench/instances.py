#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""instances.py - what TAMS 8.2 object instances and the storage_backend_tag filters add to
GET /flows/{id}/segments (docs/tams-8.2-changes.md, changes 25 and 29).

Starts one tamsd (SQLite, temporary directory) and fills two flows alike with --segments
segments, each on its own object in the built-in store (allocated, uploaded, registered).
Every object of flow B then gets one further instance (an uncontrolled URL, POST
/tams/v8.2/objects/{id}/instances), so each segment of B lists two get_urls to A's one.
Each round times --requests GETs of /tams/v8.2/flows/{id}/segments?limit=100 (pages at random
offsets) on: A, B, and A with storage_backend_tag_exists.tier=false (the filter evaluated on
every URL, dropping none), in an order that rotates per round. Prints each round, the medians
of the per-request times and the ratios to A.

Usage: /usr/bin/python3 bench/instances.py [--bin build/tamsd] [--rounds 7]
       [--segments 2000] [--requests 300]
Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import time
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def req(self, method, path, body=None, headers=None, raw=None):
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=hdrs)
        r = self.conn.getresponse()
        return r.status, r.read()


def fill(c, n, extra):
    fid = str(uuid.uuid4())
    st, _ = c.req("PUT", f"/tams/v8.2/flows/{fid}", {
        "id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
        "codec": "video/h264", "container": "video/mp2t",
        "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
    assert st == 201, st
    done = 0
    while done < n:
        k = min(500, n - done)
        st, body = c.req("POST", f"/tams/v8.2/flows/{fid}/storage", {"limit": k})
        assert st == 201, body
        objs = json.loads(body)["media_objects"]
        for o in objs:
            path = o["put_url"]["url"].split(f"127.0.0.1:{c.conn.port}", 1)[1]
            st, _ = c.req("PUT", path, raw=b"x" * 188,
                          headers={"Content-Type": o["put_url"]["content-type"]})
            assert st == 200, st
        segs = [{"object_id": o["object_id"], "timerange": f"[{done + i}:0_{done + i + 1}:0)"}
                for i, o in enumerate(objs)]
        st, body = c.req("POST", f"/tams/v8.2/flows/{fid}/segments", segs)
        assert st in (200, 201), body
        if extra:
            for o in objs:
                st, body = c.req("POST", f"/tams/v8.2/objects/{o['object_id']}/instances",
                                 {"url": f"https://cdn.example.com/{o['object_id']}",
                                  "label": "cdn"})
                assert st == 201, body
        done += k
    return fid


def time_gets(c, fid, n, segments, query, rng):
    times = []
    for _ in range(n):
        start = rng.randrange(0, max(1, segments - 100))
        path = (f"/tams/v8.2/flows/{fid}/segments?limit=100"
                f"&timerange=[{start}:0_{start + 100}:0){query}")
        t0 = time.perf_counter()
        st, body = c.req("GET", path)
        times.append(time.perf_counter() - t0)
        assert st == 200 and body.startswith(b"[{"), (st, body[:200])
    return statistics.median(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tamsd")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--segments", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=300)
    a = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="tamsd-bench-") as tmp:
        port = free_port()
        proc = subprocess.Popen([a.bin, "--listen", f"127.0.0.1:{port}", "--data-dir",
                                 os.path.join(tmp, "data"), "--access-log", "false"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            c = Client(port)
            flow_a, flow_b = fill(c, a.segments, False), fill(c, a.segments, True)
            cases = [("A", flow_a, ""), ("B (+1 instance)", flow_b, ""),
                     ("A + tag filter", flow_a, "&storage_backend_tag_exists.tier=false")]
            for name, fid, q in cases:  # warm-up
                time_gets(c, fid, 50, a.segments, q, rng)
            got = {name: [] for name, _, _ in cases}
            for r in range(a.rounds):
                order = cases[r % 3:] + cases[:r % 3]
                line = []
                for name, fid, q in order:
                    ms = time_gets(c, fid, a.requests, a.segments, q, rng)
                    got[name].append(ms)
                    line.append(f"{name} {ms:.3f} ms")
                print(f"round {r + 1}: " + ", ".join(line), flush=True)
            base = statistics.median(got["A"])
            for name, _, _ in cases:
                m = statistics.median(got[name])
                print(f"median {name}: {m:.3f} ms per GET of 100 segments, x{m / base:.2f} of A")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
