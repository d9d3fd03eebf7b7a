#!/usr/bin/python3
"""metrics_scrape.py - what one Prometheus scrape of GET /metrics costs tamsd, beside GET /health
(which touches nothing), after a small load (so every route family and histogram is written).

Usage: TAMSD_BIN=build/tamsd bench/metrics_scrape.py [N] [--database postgresql://...]
Prints the median and 99th percentile of N (default 300) sequential scrapes of each, their
ratio, and the size of the /metrics body. Interleaved, one request at a time, 127.0.0.1."""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        body = r.read()
    return time.perf_counter() - t0, len(body)


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError:
        pass


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--database")]
    n = int(args[0]) if args else 300
    extra = []
    if "--database" in sys.argv:
        extra = ["--database", sys.argv[sys.argv.index("--database") + 1]]
    tmp = tempfile.mkdtemp(prefix="tamsd-metrics-bench.")
    port = free_port()
    proc = subprocess.Popen([os.environ.get("TAMSD_BIN", "build/tamsd"), "--listen",
                             f"127.0.0.1:{port}", "--data-dir", tmp + "/data",
                             "--access-log", "false", *extra],
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health").read()
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(20):  # a small load: flows, reads, 404s
            fid = str(uuid.uuid4())
            doc = ('{"id":"%s","source_id":"%s","format":"urn:x-nmos:format:data",'
                   '"codec":"text/plain","container":"text/plain"}' % (fid, uuid.uuid4()))
            request("PUT", f"{base}/flows/{fid}", doc.encode())
            request("GET", f"{base}/flows/{fid}")
            request("GET", f"{base}/flows/{uuid.uuid4()}")
        m, h, size = [], [], 0
        for _ in range(n):
            t, size = timed(base + "/metrics")
            m.append(t)
            h.append(timed(base + "/health")[0])
    finally:
        proc.terminate()
        proc.wait()
    def q99(v):
        return sorted(v)[int(len(v) * 0.99) - 1]
    mm, hm = statistics.median(m), statistics.median(h)
    print(f"store={'postgresql' if extra else 'sqlite'} scrapes={n} body={size} bytes")
    print(f"/metrics median {mm * 1e3:.3f} ms p99 {q99(m) * 1e3:.3f} ms")
    print(f"/health  median {hm * 1e3:.3f} ms p99 {q99(h) * 1e3:.3f} ms")
    print(f"ratio /metrics : /health (medians) {mm / hm:.2f}")


if __name__ == "__main__":
    main()
