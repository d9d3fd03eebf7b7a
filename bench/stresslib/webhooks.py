# SPDX-License-Identifier: Apache-2.0
"""The webhook side: the receiver (run in a child process, one JSON line per delivery),
a counter of its lines as they grow, and the check of every delivery against what the driver's
writes must have caused (none lost, none twice, order kept per flow)."""
import collections
import datetime
import json
import threading
import time

from .common import SEG_S, pct, tr_lo


def receiver_main(port_pipe, out_path, api_key):
    import http.server

    f = open(out_path, "a", buffering=1)
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            t = time.time()
            n = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(n)
            rec = {"t": t, "path": self.path, "key_ok": self.headers.get("X-Stress-Key") == api_key}
            try:
                b = json.loads(raw)
                ev = b.get("event", {})
                rec["type"] = b.get("event_type")
                rec["ts"] = b.get("event_timestamp")
                if "flow" in ev:
                    rec["key"] = "flow:" + ev["flow"]["id"]
                elif "flow_id" in ev:
                    rec["key"] = "flow:" + ev["flow_id"]
                elif "source" in ev:
                    rec["key"] = "source:" + ev["source"]["id"]
                elif "source_id" in ev:
                    rec["key"] = "source:" + ev["source_id"]
                if "timerange" in ev:
                    rec["tr"] = ev["timerange"]
                elif ev.get("segments"):
                    rec["tr"] = ev["segments"][0]["timerange"]
                    rec["nseg"] = len(ev["segments"])
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                rec["bad"] = repr(e)
            with lock:
                f.write(json.dumps(rec) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    port_pipe.send(srv.server_address[1])
    srv.serve_forever()


class EventTail:
    """Counts the lines of the receiver's file as it grows (without re-reading it)."""

    def __init__(self, path):
        self.path, self.off, self.n = path, 0, 0

    def count(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.n
        end = data.rfind(b"\n") + 1
        self.n += data.count(b"\n", 0, end)
        self.off += end
        return self.n


def read_events(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def check_webhooks(run):
    evs = read_events(run.events_path)
    got = collections.defaultdict(list)
    bad = []
    lags = []
    for e in evs:
        if "bad" in e or "key" not in e or not e.get("key_ok"):
            bad.append(e)
            continue
        got[(e["path"], e["key"])].append(e)
        if e.get("ts"):
            ts = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
            lags.append((e["t"] - ts) * 1000.0)
    res = {"expected": dict(run.expect.total),
           "received": collections.Counter(e["path"] for e in evs),
           "lost": 0, "duplicated_or_unexpected": 0, "order_violations": 0, "malformed": len(bad),
           "examples": []}
    keys = set(run.expect.by) | set(got)
    for k in sorted(keys):
        exp = collections.Counter(run.expect.by.get(k, []))
        rcv = [(e["type"], e.get("tr") if e["type"].startswith("flows/segments") else None)
               for e in got.get(k, [])]
        rc = collections.Counter(rcv)
        # the driver records the timerange of segment events only
        exp = collections.Counter({(t, r if t.startswith("flows/segments") else None): n
                                   for (t, r), n in exp.items()})
        lost = exp - rc
        extra = rc - exp
        res["lost"] += sum(lost.values())
        res["duplicated_or_unexpected"] += sum(extra.values())
        if lost and len(res["examples"]) < 10:
            res["examples"].append("lost on %s %s: %s" % (k[0], k[1], list(lost.items())[:3]))
        if extra and len(res["examples"]) < 10:
            res["examples"].append("extra on %s %s: %s" % (k[0], k[1], list(extra.items())[:3]))
        # order per flow (or source)
        seq = got.get(k, [])
        viol = []
        created = "sources/created" if k[1].startswith("source:") else "flows/created"
        deleted = "sources/deleted" if k[1].startswith("source:") else "flows/deleted"
        types = [e["type"] for e in seq]
        if created in types and types[0] != created:
            viol.append("%s not first" % created)
        if deleted in types and types[-1] != deleted:
            viol.append("%s not last" % deleted)
        last_add = last_del = None
        added_at = {}
        for pos, e in enumerate(seq):
            if e["type"] == "flows/segments_added":
                lo = tr_lo(e["tr"])
                if last_add is not None and lo <= last_add:
                    viol.append("segments_added %s after %d" % (e["tr"], last_add))
                last_add = lo
                added_at[lo] = pos
            elif e["type"] == "flows/segments_deleted":
                lo = tr_lo(e["tr"])
                if last_del is not None and lo <= last_del:
                    viol.append("segments_deleted %s after %d" % (e["tr"], last_del))
                last_del = lo
                hi = int(e["tr"].split("_")[1].split(":")[0])
                for s in range(lo, hi, SEG_S):
                    if s in added_at and added_at[s] > pos:
                        viol.append("segments_deleted %s before the add of %d" % (e["tr"], s))
        res["order_violations"] += len(viol)
        for v in viol[:2]:
            if len(res["examples"]) < 10:
                res["examples"].append("order on %s %s: %s" % (k[0], k[1], v))
    lags.sort()
    res["lag_ms"] = {"p50": pct(lags, 50), "p99": pct(lags, 99),
                     "max": lags[-1] if lags else float("nan")}
    res["received"] = dict(res["received"])
    return res
