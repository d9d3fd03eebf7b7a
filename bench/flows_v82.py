#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""flows_v82.py - what the 7.0 view of 8.2-shaped flows costs (docs/tams-8.2-changes.md R1).

Starts one tamsd on SQLite in a temporary directory and fills two sets of --flows video flows:
"plain" ones, written by 7.0 with a frame_rate (their stored text is the 7.0 document, spliced
unparsed), and "82" ones, written by 8.2 with status and init_segments (7.0 reads them through
the view: parse, translate, serialise). Each round times --requests GET /flows?limit=100
restricted to one set (by label) under /tams/v7.0 and /tams/v8.2, in alternating order.
Prints the medians per request and the ratios against the plain 7.0 listing.

Usage: /usr/bin/python3 bench/flows_v82.py [--bin build/tamsd] [--rounds 7] [--flows 100]
       [--requests 200]
Standard library only.
"""
import argparse
import http.client
import json
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


def request(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return data


def flow(label, v82):
    ep = {"frame_width": 1920, "frame_height": 1080, "frame_rate": {"numerator": 25},
          "colorspace": "BT709"}
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "label": label,
           "format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp2t",
           "tags": {"a": "b", "c": "d"}, "essence_parameters": ep}
    if v82:
        doc["status"] = "ingesting"
        ep["init_segments"] = True
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tamsd")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--flows", type=int, default=100)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        proc = subprocess.Popen([a.bin, "--listen", f"127.0.0.1:{port}", "--data-dir", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    request(conn, "GET", "/health")
                    break
                except (OSError, SystemExit):
                    time.sleep(0.1)
            for i in range(a.flows):
                p = flow("plain", False)
                request(conn, "PUT", f"/tams/v7.0/flows/{p['id']}", p)
                f = flow("v82", True)
                request(conn, "PUT", f"/tams/v8.2/flows/{f['id']}", f)
            cases = {"7.0 plain": "/tams/v7.0/flows?label=plain&limit=100",
                     "7.0 of 8.2": "/tams/v7.0/flows?label=v82&limit=100",
                     "8.2 of 8.2": "/tams/v8.2/flows?label=v82&limit=100"}
            times = {k: [] for k in cases}
            for r in range(a.rounds):
                order = list(cases) if r % 2 == 0 else list(reversed(cases))
                for k in order:
                    t0 = time.perf_counter()
                    for _ in range(a.requests):
                        request(conn, "GET", cases[k])
                    times[k].append((time.perf_counter() - t0) / a.requests * 1e6)
                print(f"round {r + 1}: " + ", ".join(f"{k} {times[k][-1]:.0f} us" for k in cases))
            base = statistics.median(times["7.0 plain"])
            for k in cases:
                m = statistics.median(times[k])
                print(f"median {k}: {m:.0f} us per GET /flows?limit=100 ({m / base:.2f}x)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
