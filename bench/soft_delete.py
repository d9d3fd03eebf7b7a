#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""soft_delete.py - what soft delete adds to a deletion (docs/soft-delete.md).

Starts two tamsd side by side on SQLite in temporary directories (or, with --database URL, on
two schemas of one PostgreSQL): one with soft_delete_retention 0 (deletions final, as before),
one with 3600 (the rows copied into the trash first). Each round fills a fresh flow on both
with the same --segments segments (uncontrolled objects, --batch per POST), then times one
DELETE /flows/{id}/segments of --delete of them on each, alternating which server goes first.
Prints each round, the medians and the ratio soft/hard of the median DELETE time.
Also times one whole-flow deletion per side at the end.

Usage: /usr/bin/python3 bench/soft_delete.py [--bin build/tamsd] [--rounds 7]
       [--segments 10000] [--delete 5000] [--batch 1000] [--database postgresql://...]
Standard library only.
"""
import argparse
import http.client
import json
import os
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


class Tamsd:
    def __init__(self, binary, tmp, name, args, database):
        self.port = free_port()
        data = os.path.join(tmp, name)
        cmd = [binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir", data] + args
        if database:
            schema = "bench_softdel_" + name
            subprocess.run(["psql", database, "-qc",
                            f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                           check=True)
            sep = "&" if "?" in database else "?"
            cmd += ["--database", f"{database}{sep}options=-csearch_path%3D{schema}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(data + ".log", "wb"), env=env)
        for _ in range(300):
            try:
                if self.req("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"tamsd {name} did not start")

    def req(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def fill(srv, n, batch):
    fid = str(uuid.uuid4())
    doc = {"id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
    assert srv.req("PUT", f"/flows/{fid}", doc)[0] == 201
    for start in range(0, n, batch):
        segs = [{"object_id": f"o-{fid}-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
                 "get_urls": [{"url": "http://media.example/x", "label": "x"}]}
                for i in range(start, min(n, start + batch))]
        st, out = srv.req("POST", f"/flows/{fid}/segments", segs)
        assert st == 201, out
    return fid


def timed(srv, method, path):
    t = time.perf_counter()
    st, out = srv.req(method, path)
    assert st == 204, (st, out)
    return (time.perf_counter() - t) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tamsd")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--segments", type=int, default=10000)
    ap.add_argument("--delete", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--database", default="")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-softdel-")
    common = ["--gc-interval", "3600", "--delete-sync-limit", str(a.segments + 1)]
    hard = Tamsd(a.bin, tmp, "hard", common, a.database)
    soft = Tamsd(a.bin, tmp, "soft", common + ["--soft-delete-retention", "3600"], a.database)
    times = {"hard": [], "soft": []}
    whole = {}
    try:
        for r in range(a.rounds):
            order = [("hard", hard), ("soft", soft)]
            if r % 2:
                order.reverse()
            fids = {name: fill(srv, a.segments, a.batch) for name, srv in order}
            for name, srv in order:
                ms = timed(srv, "DELETE",
                           f"/flows/{fids[name]}/segments?timerange=[0:0_{a.delete}:0)")
                times[name].append(ms)
            print(f"round {r + 1}: hard {times['hard'][-1]:.1f} ms, soft {times['soft'][-1]:.1f} ms",
                  flush=True)
        for name, srv in (("hard", hard), ("soft", soft)):
            fid = fill(srv, a.segments, a.batch)
            whole[name] = timed(srv, "DELETE", f"/flows/{fid}")
    finally:
        hard.stop()
        soft.stop()
    mh, ms = statistics.median(times["hard"]), statistics.median(times["soft"])
    print(f"DELETE of {a.delete} of {a.segments} segments, median of {a.rounds}:"
          f" hard {mh:.1f} ms, soft {ms:.1f} ms, soft/hard {ms / mh:.2f}")
    print(f"DELETE of a whole flow of {a.segments} segments: hard {whole['hard']:.1f} ms,"
          f" soft {whole['soft']:.1f} ms")


if __name__ == "__main__":
    main()
