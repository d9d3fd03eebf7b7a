# SPDX-License-Identifier: Apache-2.0
"""The sampler: tamsd's (and PostgreSQL's) RSS, fds, threads and CPU from /proc, GET
/metrics, and per interval the throughput and latency of every operation: the timeline."""
import json
import os

from .client import timed
from .common import OPS, pct
from .webhooks import EventTail


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    """(rss_kb, fds, threads, cpu_s) of one process, or None when it is gone."""
    try:
        rss = thr = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    thr = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        cpu = (int(st[11]) + int(st[12])) / CLK_TCK
        fds = len(os.listdir("/proc/%d/fd" % pid))
        return rss, fds, thr, cpu
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def parse_metrics(text):
    """{series: value}. A series named twice is summed: tamsd's duration histogram has one
    series per route table entry, and GET, PUT and DELETE of one template share its name."""
    m = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, val = line.rpartition(" ")
        try:
            m[name] = m.get(name, 0.0) + float(val)
        except ValueError:
            pass
    return m


def metric_sum(m, prefix, pred=lambda k: True):
    return sum(v for k, v in m.items() if k.startswith(prefix) and pred(k))


def scrape(run, cl):
    """GET /metrics (timed as the operation `metrics`), parsed, or None."""
    st, body, ok = timed(run.rec, cl, "metrics", "GET", "/metrics", (200,))
    return parse_metrics(body.decode(errors="replace")) if ok else None


def sample_loop(run):
    """Every --sample-every seconds until the run stops: one timeline row (appended to
    run.timeline and to timeline.jsonl as it happens)."""
    cl = run.clients()
    cursors = {op: 0 for op in OPS}
    ecur = 0
    prev_t = run.elapsed()
    prev_cpu = prev_pg_cpu = None
    prev_m = run.metrics_first
    tail = EventTail(run.events_path)
    while True:
        stopping = run.stop.wait(run.a.sample_every)
        t = run.elapsed()
        dt = max(t - prev_t, 1e-6)
        row = {"t": round(t, 2)}
        with open("/proc/loadavg") as fl:
            row["load1"] = float(fl.read().split()[0])
        if run.a.pid:
            s = proc_sample(run.a.pid)
            if s:
                row["rss_mb"] = round(s[0] / 1024.0, 2)
                row["fds"] = s[1]
                row["threads"] = s[2]
                if prev_cpu is not None:
                    row["cpu_pct"] = round(100.0 * (s[3] - prev_cpu) / dt, 1)
                prev_cpu = s[3]
        if run.a.pg_pid:
            pids = [run.a.pg_pid] + children(run.a.pg_pid)
            ss = [x for x in (proc_sample(p) for p in pids) if x]
            row["pg_rss_mb"] = round(sum(x[0] for x in ss) / 1024.0, 2)
            row["pg_procs"] = len(ss)
            cpu = sum(x[3] for x in ss)
            if prev_pg_cpu is not None:
                row["pg_cpu_pct"] = round(100.0 * max(0.0, cpu - prev_pg_cpu) / dt, 1)
            prev_pg_cpu = cpu
        total = 0
        for op in OPS:
            n = len(run.rec.lat[op])
            lat = sorted(run.rec.lat[op][cursors[op]:n])
            cursors[op] = n
            total += len(lat)
            row[op + "_rps"] = round(len(lat) / dt, 2)
            row[op + "_p50_ms"] = round(pct(lat, 50), 3) if lat else float("nan")
            row[op + "_p99_ms"] = round(pct(lat, 99), 3) if lat else float("nan")
        row["total_rps"] = round(total / dt, 2)
        m = scrape(run, cl)
        if m is not None:
            if prev_m is not None:
                for kind in ("flow", "source"):
                    name = "tams_%s_cache_requests_total" % kind
                    hit, miss = name + '{result="hit"}', name + '{result="miss"}'
                    h = m.get(hit, 0) - prev_m.get(hit, 0)
                    mi = m.get(miss, 0) - prev_m.get(miss, 0)
                    row[kind + "_cache_hit_ratio"] = (round(h / (h + mi), 4) if h + mi
                                                      else float("nan"))
                row["webhook_delivered_ps"] = round(
                    (m.get("tams_webhook_deliveries_total", 0) -
                     prev_m.get("tams_webhook_deliveries_total", 0)) / dt, 2)
            row["webhook_queue_depth"] = m.get("tams_webhook_queue_depth", float("nan"))
            for kind in ("flow", "source"):  # what the caches hold, next to RSS
                row[kind + "_cache_entries"] = m.get("tams_%s_cache_entries" % kind,
                                                     float("nan"))
                row[kind + "_cache_mb"] = round(m.get("tams_%s_cache_bytes" % kind,
                                                      float("nan")) / 1048576.0, 3)
            prev_m = m
            run.metrics_last = m
        nev = tail.count()
        row["webhook_received_ps"] = round((nev - ecur) / dt, 2)
        ecur = nev
        with run.expect.lock:
            row["webhook_expected_total"] = sum(run.expect.total.values())
        row["webhook_received_total"] = nev
        run.timeline.append(row)
        with open(os.path.join(run.a.out, "timeline.jsonl"), "a") as f:  # as it happens
            f.write(json.dumps(row) + "\n")
        prev_t = t
        if stopping:
            return
