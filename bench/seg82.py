#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""seg82.py - what TAMS 8.2's segment work (docs/tams-8.2-changes.md, 22-24) adds to a 7.0
segment registration: the objects' kinds looked up (init objects) and the flow's document read
(the init_segments refusal), on every POST /flows/{id}/segments.

Starts two tamsd side by side on SQLite in temporary directories (or, with --database URL, on
two schemas of one PostgreSQL): --base (a build from before the change) and --bin (with it).
Each round registers --segments fresh segments (uncontrolled objects, --batch per POST, the
7.0 root) into a fresh flow on each, alternating which server goes first, and times the POSTs.
Prints each round, the medians and the ratio new/base of the median time.

With --versions (no --base): one tamsd (--bin), the same registrations under /tams/v7.0 and
/tams/v8.2 alternately, and the ratio 7.0/8.2 of the median times: what 7.0's own checks (the
init_segments refusal) cost on top of 8.2's bulk POST.

Usage: /usr/bin/python3 bench/seg82.py --base OLD/tamsd --bin NEW/tamsd [--rounds 7]
       [--segments 5000] [--batch 500] [--database postgresql://...]
       /usr/bin/python3 bench/seg82.py --versions --bin NEW/tamsd [...]
Standard library only.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_delete import Tamsd  # noqa: E402  (one way of starting a tamsd for the benches)


def register(srv, n, batch, prefix=""):
    fid = str(uuid.uuid4())
    doc = {"id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080,
                                  "frame_rate": {"numerator": 25, "denominator": 1}}}
    assert srv.req("PUT", f"{prefix}/flows/{fid}", doc)[0] == 201
    took = 0.0
    for start in range(0, n, batch):
        segs = [{"object_id": f"o-{fid}-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
                 "get_urls": [{"url": f"http://media.example/{i}", "label": "m"}]}
                for i in range(start, min(n, start + batch))]
        t0 = time.perf_counter()
        status, body = srv.req("POST", f"{prefix}/flows/{fid}/segments", segs)
        took += time.perf_counter() - t0
        assert status == 201, body
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base")
    ap.add_argument("--versions", action="store_true")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--segments", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--database")
    a = ap.parse_args()
    if a.versions:
        return versions(a)
    if not a.base:
        ap.error("--base or --versions")
    with tempfile.TemporaryDirectory(prefix="seg82-") as tmp:
        servers = {"base": Tamsd(a.base, tmp, "base", [], a.database),
                   "new": Tamsd(a.bin, tmp, "new", [], a.database)}
        times = {"base": [], "new": []}
        try:
            for r in range(a.rounds):
                order = ["base", "new"] if r % 2 == 0 else ["new", "base"]
                for name in order:
                    times[name].append(register(servers[name], a.segments, a.batch))
                print(f"round {r + 1}: base {times['base'][-1]:.3f} s, new {times['new'][-1]:.3f} s",
                      flush=True)
        finally:
            for s in servers.values():
                s.stop()
    mb, mn = statistics.median(times["base"]), statistics.median(times["new"])
    print(f"median: base {mb:.3f} s, new {mn:.3f} s for {a.segments} segments in POSTs of "
          f"{a.batch}; new/base {mn / mb:.3f}")


def versions(a):
    prefixes = {"7.0": "/tams/v7.0", "8.2": "/tams/v8.2"}
    times = {"7.0": [], "8.2": []}
    with tempfile.TemporaryDirectory(prefix="seg82-") as tmp:
        srv = Tamsd(a.bin, tmp, "versions", [], a.database)
        try:
            for r in range(a.rounds):
                order = ["7.0", "8.2"] if r % 2 == 0 else ["8.2", "7.0"]
                for v in order:
                    times[v].append(register(srv, a.segments, a.batch, prefixes[v]))
                print(f"round {r + 1}: 7.0 {times['7.0'][-1]:.3f} s, 8.2 {times['8.2'][-1]:.3f} s",
                      flush=True)
        finally:
            srv.stop()
    m7, m8 = statistics.median(times["7.0"]), statistics.median(times["8.2"])
    print(f"median: 7.0 {m7:.3f} s, 8.2 {m8:.3f} s for {a.segments} segments in POSTs of "
          f"{a.batch}; 7.0/8.2 {m7 / m8:.3f}")


if __name__ == "__main__":
    main()
