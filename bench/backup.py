#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""backup.py - what `tamsd backup` costs the writers of a running tamsd, and how long it takes.

Starts tamsd (SQLite in a temporary directory, no access log), fills it with FLOWS flows of
SEGS segments each (bulk registrations, external get_urls, so the store is the only thing
written), then alternates ROUNDS times between two phases of WRITES single-segment
registrations timed one by one: "idle" with nothing else running, and "backup" with
`tamsd backup` copying the store over and over meanwhile. Prints each phase's median and p99
latency over all rounds, their ratio, the store's size and the backups' median duration.

Usage: /usr/bin/python3 bench/backup.py [--bin build/tamsd] [--flows 50] [--segs 2000]
                                        [--rounds 5] [--writes 300]
Standard library only. bench/BENCHMARKS.md has the figures.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data,
                          headers={"Content-Type": "application/json"} if data else {})
        r = self.conn.getresponse()
        text = r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {text[:200]!r}")
        return text


def segment(n):
    return {"object_id": f"bench-{uuid.uuid4()}", "timerange": f"[{n}:0_{n + 1}:0)",
            "get_urls": [{"url": f"http://media.example.com/{n}.ts", "label": "ext"}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tamsd")
    ap.add_argument("--flows", type=int, default=50)
    ap.add_argument("--segs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--writes", type=int, default=300)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tamsd-bench-backup-")
    data, port = os.path.join(tmp, "data"), free_port()
    proc = subprocess.Popen([a.bin, "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                             "--access-log", "false", "--max-body-bytes", "64M"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = Client(port)
                c.call("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        flows = []
        for _ in range(a.flows):
            fid = str(uuid.uuid4())
            c.call("PUT", f"/flows/{fid}", {
                "id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
                "codec": "video/h264", "container": "video/mp2t",
                "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
            c.call("POST", f"/flows/{fid}/segments", [segment(n) for n in range(a.segs)])
            flows.append(fid)
        size = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                   if f.startswith("tams.db"))

        lat = {"idle": [], "backup": []}
        durations, next_n = [], a.segs
        for _ in range(a.rounds):
            for phase in ("idle", "backup"):
                stop = threading.Event()

                def backups():
                    i = 0
                    while not stop.is_set():
                        dest = os.path.join(tmp, f"copy-{i}")
                        t0 = time.perf_counter()
                        subprocess.run([a.bin, "backup", dest, "--data-dir", data], check=True,
                                       stdout=subprocess.DEVNULL, env={})
                        durations.append(time.perf_counter() - t0)
                        shutil.rmtree(dest)
                        i += 1

                t = threading.Thread(target=backups) if phase == "backup" else None
                if t:
                    t.start()
                    time.sleep(0.2)
                for w in range(a.writes):
                    fid = flows[w % len(flows)]
                    t0 = time.perf_counter()
                    c.call("POST", f"/flows/{fid}/segments", segment(next_n + w // len(flows)))
                    lat[phase].append((time.perf_counter() - t0) * 1000)
                next_n += a.writes // len(flows) + 1
                stop.set()
                if t:
                    t.join()
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp)

    def q(xs, p):
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]

    print(f"store: {a.flows * a.segs} segments, {size / 1e6:.1f} MB (tams.db + WAL)")
    print(f"backups: {len(durations)}, median {statistics.median(durations) * 1000:.0f} ms")
    for phase in ("idle", "backup"):
        print(f"{phase:7s} writes: median {statistics.median(lat[phase]):.2f} ms, "
              f"p99 {q(lat[phase], 0.99):.2f} ms ({len(lat[phase])})")
    print(f"ratio backup/idle: median "
          f"{statistics.median(lat['backup']) / statistics.median(lat['idle']):.2f}, "
          f"p99 {q(lat['backup'], 0.99) / q(lat['idle'], 0.99):.2f}")


if __name__ == "__main__":
    main()
