#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""body_rss.py - peak memory of tamsd for one JSON request body at the limits.

For each body shape, starts a fresh tamsd (one worker thread, SQLite in a temporary directory),
warms it up, resets its peak RSS (/proc/PID/clear_refs), sends the body once and reads the peak
(VmHWM) back: the growth is what that one request cost, parsing and handler together. Shapes
are the worst the JSON limits of src/http/limits.h let through (at exactly the density limits,
so the body is accepted by the parser), the same shapes just past them (refused before json-c
builds anything), and an ordinary bulk segment POST filling the body limit.

Usage: /usr/bin/python3 bench/body_rss.py [--bin build/tamsd] [--max-body 8M] [--only NAME]
Standard library only; Linux (/proc). docs/internals/request-memory.md has the figures.
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid

BPV, BPC = 8, 32  # TAMS_LIMIT_JSON_BYTES_PER_VALUE, TAMS_LIMIT_JSON_BYTES_PER_CONTAINER


def size_arg(s):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(s[-1].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def request(port, method, path, body=None, timeout=600):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def pad(items, n, length):
    """'[' items joined by ',' ']' padded with spaces to exactly length bytes."""
    body = ("[" + ",".join([items] * n) + "]").encode()
    assert len(body) <= length, (len(body), length)
    return body + b" " * (length - len(body))


def shapes(limit):
    """(name, path kind, body). Path kind 'service' is POST /service (the handler refuses an
    array at once: the figure is the parse), 'segments' a POST of segments to a flow."""
    n_cont = limit // BPC  # objects and arrays allowed, the outer array included
    n_val = limit // BPV
    out = []
    # one empty object per 32 bytes: json-c's most expensive value per byte
    out.append(("objects {} at the limit", "service", pad("{}", n_cont - 1, limit)))
    out.append(("objects {} one past", "service", pad("{}", n_cont, limit)))
    # objects of three float members: the container and the value limits both reached
    per = (n_val - 1) // (n_cont - 1) - 1  # members per object
    obj = "{" + ",".join(f'"{chr(97 + i)}":1.5' for i in range(per)) + "}"
    out.append((f"objects of {per} floats at the limits", "service", pad(obj, n_cont - 1, limit)))
    # values: at most 262144 items in one array, so four arrays of floats or empty strings
    per = (n_val - 5) // 4
    for item in ("1.5", '""'):
        inner = "[" + ",".join([item] * per) + "]"
        out.append((f"4 arrays of {per} {item} at the limit", "service", pad(inner, 4, limit)))
    inner = "[" + ",".join(["1.5"] * (per + 1)) + "]"
    out.append(("the same floats one past", "service", pad(inner, 4, limit)))
    out.append(("ints [0,0,...] unlimited (refused)", "service",
                pad("0", (limit - 2) // 2, limit)))
    # before the limits: what json-c cost unchecked (an 8 MiB body: 2.8 million objects)
    out.append(("objects {} unlimited (refused)", "service",
                pad("{}", (limit - 2) // 3, limit)))
    # an ordinary bulk POST: external segments with one get_url each, filling the body
    segs, size = [], 2
    i = 0
    while True:
        s = json.dumps({"object_id": f"ext-{uuid.uuid4()}", "timerange": f"[{i}:0_{i + 1}:0)",
                        "get_urls": [{"url": f"http://media.example.com/{i}.ts",
                                      "label": "ext"}]}, separators=(",", ":"))
        if size + len(s) + 1 > limit:
            break
        segs.append(s)
        size += len(s) + 1
        i += 1
    out.append((f"{len(segs)} segments with get_urls", "segments",
                ("[" + ",".join(segs) + "]").encode()))
    # the smallest segments there are, as many as fit: every one fails its checks, so the
    # answer lists them all (failed_segments)
    small = '{"object_id":"a","timerange":"_"}'
    n_small = (limit - 2) // (len(small) + 1)
    out.append((f"{n_small} smallest segments, all failing", "segments",
                pad(small, n_small, limit)))
    return out


def run(binary, limit, name, kind, body):
    with tempfile.TemporaryDirectory(prefix="tamsd-rss-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
        proc = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--data-dir", tmp,
                                 "--threads", "1", "--access-log", "false",
                                 "--max-body-bytes", str(limit)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            for _ in range(200):
                try:
                    if request(port, "GET", "/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            fid = str(uuid.uuid4())
            flow = {"id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
                    "codec": "video/h264", "container": "video/mp2t",
                    "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
            assert request(port, "PUT", f"/flows/{fid}", json.dumps(flow).encode())[0] == 201
            for _ in range(20):
                request(port, "GET", "/service")
            before = status_kb(proc.pid, "VmRSS")
            with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            path = "/service" if kind == "service" else f"/flows/{fid}/segments"
            t0 = time.time()
            status, resp = request(port, "POST", path, body)
            took = time.time() - t0
            peak = status_kb(proc.pid, "VmHWM")
            after = status_kb(proc.pid, "VmRSS")
            summary = ""
            if status >= 400:
                summary = json.loads(resp).get("summary", "")[:60]
            return status, before, peak, after, took, len(resp), summary
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tamsd")
    ap.add_argument("--max-body", default="8M", type=size_arg)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    print(f"tamsd {a.bin}, max_body_bytes {a.max_body} ({a.max_body / 2**20:.1f} MiB)")
    print("| body | bytes | status | RSS before MiB | peak MiB | growth MiB | growth / body "
          "| response bytes | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, kind, body in shapes(a.max_body):
        if a.only and a.only not in name:
            continue
        status, before, peak, after, took, rlen, summary = run(a.bin, a.max_body, name, kind, body)
        growth = (peak - before) / 1024
        print(f"| {name} | {len(body)} | {status} | {before / 1024:.1f} | {peak / 1024:.1f} "
              f"| {growth:.1f} | {growth * 2**20 / len(body):.1f}x | {rlen} | {took:.2f} |",
              flush=True)
        if summary:
            print(f"|   ({summary}) | | | | | | | | |")


if __name__ == "__main__":
    main()
