#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stress and soak driver for tamsd: a realistic mix for a given duration, then a report.

Run it through bench/stress.sh, which builds and starts tamsd (SQLite, or PostgreSQL with --pg)
and passes --url and --pid; it can also be pointed at a running tamsd started with
--webhooks-allow-private true (without --pid there is no /proc sampling).

The mix (all on persistent HTTP/1.1 connections, one per thread):
  ingest     N live flows, each getting a 2-second segment every 2/--speed seconds of wall time:
             POST /flows/{id}/storage (--alloc-batch objects at a time), PUT a few bytes to the
             object's put_url, POST /flows/{id}/segments. Each flow lives --lifetime seconds,
             then its slot deletes it (DELETE /flows/{id}) and creates a new one (PUT).
  editors    GET /flows/{id}/segments?timerange=<10 s window> (mostly near the live edge),
             GET /flows/{id}, GET /sources/{id} and now and then PUT /flows/{id}/tags/edited.
  listers    GET /flows with filters (format, codec, frame_width, tag.*, tag_exists.*).
  retention  every --trim-every seconds, DELETE /flows/{id}/segments?timerange=... of the oldest
             segments of each flow that holds more than --keep seconds.
  webhooks   two registrations (every event type to /all; flows/created, flows/deleted and
             flows/segments_deleted to /some) delivered to a receiver this script runs in a
             child process; every delivery is matched against the events the driver's own
             successful writes must produce: none lost, none twice, order kept per flow.
  sampler    every --sample-every seconds: tamsd's VmRSS, open fds, threads and CPU time from
             /proc, PostgreSQL's (with --pg-pid), the load average, and GET /metrics.

Output (--out DIR): summary.md, summary.json, timeline.csv (timeline.jsonl is written sample by
sample during the run), events.jsonl, *.png. The plots
are drawn with gnuplot when it is installed, else by a small PNG writer (stresslib/png.py).
Exit status 0 when the run passed (no 5xx, no transport error, no unexpected status, no lost,
duplicated or reordered webhook; with --judge-flat also RSS and fds flat), 1 when it failed,
2 on a usage or setup error. Standard library only.
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # keep bench/ clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stresslib.common import SCALES  # noqa: E402
from stresslib.plots import write_plots  # noqa: E402
from stresslib.report import flatness, report  # noqa: E402
from stresslib.workload import Run  # noqa: E402


# ---- command line -------------------------------------------------------------------------------


def parse_duration(text):
    t = text.strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}
    if t and t[-1] in mult:
        return float(t[:-1]) * mult[t[-1]]
    return float(t)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    scales = "\n".join("  %-7s %s" % (k, ", ".join("%s=%s" % kv for kv in v.items()))
                       for k, v in SCALES.items())
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scales (--scale sets the defaults, any option overrides):\n" + scales)
    ap.add_argument("--url", required=True, help="tamsd base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--pid", type=int, default=0, help="tamsd's pid, for /proc sampling")
    ap.add_argument("--pg-pid", type=int, default=0,
                    help="PostgreSQL postmaster pid (sampled with its children)")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--duration", type=parse_duration, default=60.0,
                    help="load phase: 90, 20s, 30m, 1h")
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--flows", type=int, help="live flows")
    ap.add_argument("--speed", type=float,
                    help="media seconds per wall second per flow (1 = real time)")
    ap.add_argument("--editors", type=int, help="editor threads")
    ap.add_argument("--listers", type=int, help="lister threads")
    ap.add_argument("--ingest-threads", type=int, default=4)
    ap.add_argument("--lifetime", type=float, help="seconds a live flow lives before its slot "
                    "deletes and replaces it (0: never)")
    ap.add_argument("--keep", type=float, help="media seconds of each flow the retention keeps")
    ap.add_argument("--trim-every", type=float, help="seconds between retention passes")
    ap.add_argument("--trim-chunk", type=int, default=10, help="most segments one deletion removes")
    ap.add_argument("--alloc-batch", type=int, default=5,
                    help="objects per POST /flows/{id}/storage")
    ap.add_argument("--static-flows", type=int, help="flows created before the run, for listings")
    ap.add_argument("--think", type=float, help="mean think time of editors (listers: 5x), seconds")
    ap.add_argument("--sample-every", type=float, help="seconds between samples")
    ap.add_argument("--drain-timeout", type=float, default=60.0,
                    help="seconds to wait for webhook deliveries after the load")
    ap.add_argument("--judge-flat", action="store_true",
                    help="fail the run when RSS or fds are not flat in the second half")
    ap.add_argument("--plotter", choices=("auto", "gnuplot", "builtin", "none"), default="auto")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the plots of --out from its timeline.csv (with --plotter)")
    ap.add_argument("--label", default="", help="free text for the report")
    ap.add_argument("--db-label", default="", help="what the metadata store is (for the report)")
    ap.add_argument("--tamsd-label", default="", help="which tamsd (for the report)")
    a = ap.parse_args(argv)
    for k, v in SCALES[a.scale].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.flows < 1 or a.speed <= 0 or a.editors < 0 or a.listers < 0 or a.duration <= 0:
        ap.error("flows >= 1, speed > 0, editors/listers >= 0 and duration > 0")
    os.makedirs(a.out, exist_ok=True)
    if a.replot:
        return replot(a)
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    a.machine = "%d cores, %s" % (os.cpu_count(), model)
    a.db_label = a.db_label or "(not given)"
    a.tamsd_label = a.tamsd_label or a.url
    run = Run(a)
    run.run()
    s = report(run, ["bench/stress.py"] + argv if not os.environ.get("STRESS_COMMAND")
               else os.environ["STRESS_COMMAND"].split(" "))
    print(json.dumps({"verdict": s["verdict"], "out": a.out, "requests": s["requests_total"],
                      "reasons": s["reasons"]}))
    return 0 if s["verdict"] == "PASS" else 1


def replot(a):
    """Redraw the plots from timeline.csv (e.g. with the other plotter)."""
    class R:
        pass
    run = R()
    run.a = a
    a.pg_pid = a.pg_pid or 0
    run.timeline = []
    with open(os.path.join(a.out, "timeline.csv")) as f:
        cols = f.readline().strip().split(",")
        for line in f:
            row = {}
            for k, v in zip(cols, line.strip().split(",")):
                try:
                    row[k] = float(v)
                except ValueError:
                    pass
            run.timeline.append(row)
    if any("pg_rss_mb" in r for r in run.timeline):
        a.pg_pid = -1
    rss = flatness(run.timeline, "rss_mb", 1.0, 0.02)
    fds = flatness(run.timeline, "fds", 2.0, 0.05)
    files, who = write_plots(run, rss, fds)
    print(json.dumps({"plots": files, "plotter": who}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
