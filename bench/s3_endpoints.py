#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How tamsd spreads presigned URLs over the endpoints of one S3 backend, and how fast it moves
off a failed one. Run by bench/s3_endpoints.sh, which starts the S3 test servers (one data dir,
several ports: the endpoints of one backend) and tamsd with a storage config naming them.

Phases, each counting which endpoint (port) every get_url names:
  healthy    READS x GET /flows/{id}/segments over SEGMENTS segments (all endpoints up);
  killed     endpoint --kill gets SIGTERM (connection refused from then on); GET segments every
             --poll seconds until no URL has named it for 3 probe intervals: the failover time
             is from the kill to the last answer that still named it; then READS more reads;
  hung       endpoint --hang gets SIGSTOP (accepts nothing, answers nothing: a probe waits for
             its timeout), measured the same way; then SIGCONT and the time until it is used
             again;
  restarted  the killed endpoint is started again on its port: time until it is used again,
             then READS reads over all endpoints.
Every URL handed out while an endpoint is down is fetched (GET) once per distinct endpoint to
show the ones named work. Prints a Markdown table and one JSON object. Standard library only.
"""
import argparse
import collections
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid


def die(msg):
    sys.stderr.write("s3_endpoints: %s\n" % msg)
    sys.exit(1)


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port

    def req(self, method, path, body=None, headers=None, host=None, port=None):
        c = http.client.HTTPConnection(host or self.host, port or self.port, timeout=30)
        try:
            h = dict(headers or {})
            if body is not None and not isinstance(body, bytes):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()


def url_port(u):
    return urllib.parse.urlsplit(u).port


def fetch(cl, url, method="GET", body=None, ctype=None):
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    return cl.req(method, path, body=body, headers={"Content-Type": ctype} if ctype else None,
                  host=u.hostname, port=u.port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--ports", required=True, help="endpoint ports, comma-separated")
    ap.add_argument("--pids", required=True, help="their s3server pids, same order")
    ap.add_argument("--restart", required=True,
                    help="command line that starts an s3server; {port} is replaced")
    ap.add_argument("--probe", type=float, required=True, help="the backend's probe_interval")
    ap.add_argument("--segments", type=int, default=30)
    ap.add_argument("--reads", type=int, default=100)
    ap.add_argument("--poll", type=float, default=0.05)
    ap.add_argument("--kill", type=int, default=1, help="index of the endpoint to kill")
    ap.add_argument("--hang", type=int, default=2, help="index of the endpoint to SIGSTOP")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    pids = [int(p) for p in a.pids.split(",")]
    cl = Client(a.url)
    out = {"endpoints": len(ports), "probe_interval_s": a.probe, "segments": a.segments,
           "reads": a.reads, "poll_s": a.poll}

    # A flow with SEGMENTS segments, each its own object on the S3 backend.
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    st, _ = cl.req("PUT", "/flows/" + fid, {
        "id": fid, "source_id": sid, "format": "urn:x-nmos:format:video", "codec": "video/h264",
        "container": "video/mp2t", "essence_parameters": {"frame_width": 1920,
                                                          "frame_height": 1080}})
    if st != 201:
        die("PUT flow: HTTP %d" % st)
    st, body = cl.req("POST", "/flows/%s/storage" % fid, {"limit": a.segments})
    if st != 201:
        die("POST storage: HTTP %d %s" % (st, body[:300]))
    objs = json.loads(body)["media_objects"]
    put_ports = collections.Counter()
    for i, o in enumerate(objs):
        put_ports[url_port(o["put_url"]["url"])] += 1
        st, body = fetch(cl, o["put_url"]["url"], "PUT", b"segment %d" % i,
                         o["put_url"].get("content-type", "video/mp2t"))
        if st not in (200, 201, 204):
            die("PUT object to %s: HTTP %d %s" % (o["put_url"]["url"][:80], st, body[:200]))
    segs = [{"object_id": o["object_id"], "timerange": "[%d:0_%d:0)" % (2 * i, 2 * i + 2)}
            for i, o in enumerate(objs)]
    st, body = cl.req("POST", "/flows/%s/segments" % fid, segs)
    if st != 201:
        die("POST segments: HTTP %d %s" % (st, body[:300]))
    out["put_urls"] = {str(p): put_ports.get(p, 0) for p in ports}

    def read_once():
        st, body = cl.req("GET", "/flows/%s/segments?limit=%d" % (fid, a.segments))
        if st != 200:
            die("GET segments: HTTP %d %s" % (st, body[:300]))
        urls = [u["url"] for s in json.loads(body) for u in s.get("get_urls", [])]
        if len(urls) != a.segments:
            die("expected %d get_urls, got %d" % (a.segments, len(urls)))
        return urls

    def spread(n):
        c = collections.Counter()
        sample = {}
        for _ in range(n):
            for u in read_once():
                p = url_port(u)
                c[p] += 1
                sample.setdefault(p, u)
        ok = {}
        for p, u in sample.items():  # one URL per endpoint named: does it work?
            st, body = fetch(cl, u)
            ok[str(p)] = st == 200 and body.startswith(b"segment ")
        total = sum(c.values())
        named = [c.get(p, 0) for p in ports]
        live = [x for x in named if x]
        return {"counts": {str(p): c.get(p, 0) for p in ports}, "total": total,
                "max_over_min": (max(live) / min(live)) if live else None,
                "fetch_ok": ok}

    def until(cond, limit):
        """Poll GET segments until cond(ports named) has held for 3 probe intervals (or limit
        seconds); returns (seconds from now to the last answer that failed cond, polls)."""
        t0 = time.monotonic()
        last_bad = None
        polls = 0
        while True:
            now = time.monotonic()
            named = {url_port(u) for u in read_once()}
            polls += 1
            if not cond(named):
                last_bad = time.monotonic() - t0
            elif now - t0 - (last_bad or 0) >= 3 * a.probe:
                return last_bad, polls
            if now - t0 > limit:
                return None, polls
            time.sleep(a.poll)

    out["healthy"] = spread(a.reads)

    dead = ports[a.kill]
    os.kill(pids[a.kill], signal.SIGTERM)
    t_kill = time.time()
    secs, polls = until(lambda named: dead not in named, 10 * a.probe + 10)
    out["killed"] = {"endpoint": dead, "failover_s": secs, "polls": polls,
                     "spread": spread(a.reads)}

    hung = ports[a.hang]
    os.kill(pids[a.hang], signal.SIGSTOP)
    try:
        secs, polls = until(lambda named: hung not in named, 10 * a.probe + 20)
        out["hung"] = {"endpoint": hung, "failover_s": secs, "polls": polls,
                       "spread": spread(a.reads)}
    finally:
        os.kill(pids[a.hang], signal.SIGCONT)
    secs, polls = until(lambda named: hung in named, 10 * a.probe + 20)
    out["hung"]["back_s"] = secs

    proc = subprocess.Popen(a.restart.replace("{port}", str(dead)).split(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        secs, polls = until(lambda named: dead in named, 10 * a.probe + 20)
        out["restarted"] = {"endpoint": dead, "back_s": secs, "spread": spread(a.reads)}
    finally:
        proc.terminate()
        proc.wait(10)
    out["killed_at"] = t_kill

    # Markdown
    L = ["| phase | " + " | ".join("endpoint :%d" % p for p in ports) +
         " | URLs | max/min over the endpoints named | named URLs fetched OK | switch time s |",
         "|---|" + "---:|" * len(ports) + "---:|---:|---|---:|"]

    def row(name, sp, t=None):
        L.append("| %s | %s | %d | %s | %s | %s |" % (
            name, " | ".join(str(sp["counts"][str(p)]) for p in ports), sp["total"],
            "%.3f" % sp["max_over_min"] if sp["max_over_min"] else "-",
            "yes" if all(sp["fetch_ok"].values()) else "NO %s" % sp["fetch_ok"],
            "-" if t is None else ("%.2f" % t if t == t else "never")))
    row("all healthy", out["healthy"])
    row(":%d killed (SIGTERM)" % dead, out["killed"]["spread"],
        out["killed"]["failover_s"] if out["killed"]["failover_s"] is not None else float("nan"))
    row(":%d hung (SIGSTOP)" % hung, out["hung"]["spread"],
        out["hung"]["failover_s"] if out["hung"]["failover_s"] is not None else float("nan"))
    row(":%d restarted, :%d resumed" % (dead, hung), out["restarted"]["spread"],
        out["restarted"]["back_s"] if out["restarted"]["back_s"] is not None else float("nan"))
    L.append("")
    L.append("put_urls of the %d allocated objects: %s. Switch time: from the signal (or "
             "restart) to the last GET whose get_urls still named (or did not yet name) the "
             "endpoint, polled every %.2f s; probe_interval %g s. The hung endpoint was used "
             "again %.2f s after SIGCONT." % (
                 a.segments, ", ".join(":%s %d" % kv for kv in out["put_urls"].items()),
                 a.poll, a.probe, out["hung"]["back_s"] if out["hung"]["back_s"] is not None
                 else float("nan")))
    print("\n".join(L))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(out) + "\n")
    bad = [k for k in ("killed", "hung") if out[k]["failover_s"] is None]
    if out["restarted"]["back_s"] is None or out["hung"]["back_s"] is None:
        bad.append("an endpoint was not used again")
    for k in ("healthy", "killed", "hung", "restarted"):
        sp = out[k] if k == "healthy" else out[k]["spread"]
        if not all(sp["fetch_ok"].values()):
            bad.append("%s: a named endpoint did not serve its URL" % k)
    if bad:
        die("; ".join(bad))


if __name__ == "__main__":
    main()
