# SPDX-License-Identifier: Apache-2.0
"""The plots of the timeline, drawn with gnuplot when it is installed, else (or when it
fails) by the builtin PNG writer."""
import os
import shutil
import subprocess
import sys

from .common import OPS
from .png import PALETTE, bin_size, builtin_plot, series


def plot_specs(run, rss, fds):
    """[(file, title, [panel]), ...]; a panel is (ylabel, logy, [(label, column)])."""
    ops = [op for op in OPS if op != "metrics"]
    specs = [
        ("throughput.png", "Throughput (requests per second, per sample interval)", [
            ("req/s, all", False, [("all operations", "total_rps")]),
            ("req/s", True, [(op, op + "_rps") for op in ops]),
        ]),
        ("latency.png", "Latency per sample interval (ms, log scale)", [
            ("p50 ms", True, [(op, op + "_p50_ms") for op in ops]),
            ("p99 ms", True, [(op, op + "_p99_ms") for op in ops]),
        ]),
        ("resources.png", "tamsd resources (dashed: line fitted to the second half)", [
            ("RSS MB", False, [("tamsd RSS", "rss_mb"), ("fit", "rss_fit")] +
             ([("PostgreSQL RSS", "pg_rss_mb")] if run.a.pg_pid else [])),
            ("open fds", False, [("tamsd fds", "fds"), ("fit", "fds_fit")]),
            ("CPU % of a core", False, [("tamsd", "cpu_pct")] +
             ([("PostgreSQL", "pg_cpu_pct")] if run.a.pg_pid else [])),
            ("load average", False, [("load average (1 min)", "load1")]),
        ]),
        ("cache.png", "Flow and source caches: hit ratio per sample interval, memory held", [
            ("hit ratio", False, [("flow cache", "flow_cache_hit_ratio"),
                                  ("source cache", "source_cache_hit_ratio")]),
            ("cache MB", False, [("flow cache", "flow_cache_mb"),
                                 ("source cache", "source_cache_mb")]),
        ]),
        ("webhooks.png", "Webhooks", [
            ("events/s", False, [("delivered (tamsd)", "webhook_delivered_ps"),
                                 ("received", "webhook_received_ps")]),
            ("events", False, [("queue depth", "webhook_queue_depth"),
                               ("expected - received", "webhook_backlog")]),
        ]),
    ]
    for r in run.timeline:
        for col, fl in (("rss_fit", rss), ("fds_fit", fds)):
            if fl.get("judged") and r["t"] >= fl["from_t"]:
                r[col] = fl["fit"][0] * r["t"] + fl["fit"][1]
        if "webhook_expected_total" in r:
            r["webhook_backlog"] = r["webhook_expected_total"] - r["webhook_received_total"]
    return specs


def write_plots(run, rss, fds):
    """Draw every plot into --out; ([file names], who drew them). A plot gnuplot fails on is
    drawn by the builtin writer, and the answer says so."""
    if run.a.plotter == "none":
        return [], "nobody"
    specs = plot_specs(run, rss, fds)
    plotter = run.a.plotter
    if plotter == "auto":
        plotter = "gnuplot" if shutil.which("gnuplot") else "builtin"
    builtin = "the builtin PNG writer (bench/stresslib/png.py)"
    k = bin_size(run)
    if k > 1:
        tl = run.timeline
        per = k * (tl[-1]["t"] - tl[0]["t"]) / max(1, len(tl) - 1)
        specs = [(f, "%s; each point the mean of %d samples (%.0f s)" % (t, k, per), p)
                 for f, t, p in specs]
    files, fallbacks = [], []
    for spec in specs:
        if plotter == "gnuplot":
            try:
                gnuplot(run, *spec)
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                sys.stderr.write("stress: plot %s failed (%r); drawing it with the builtin "
                                 "writer\n" % (spec[0], e))
                builtin_plot(run, *spec)
                fallbacks.append(spec[0])
        else:
            builtin_plot(run, *spec)
        files.append(spec[0])
    if plotter != "gnuplot":
        return files, builtin
    if fallbacks:
        return files, "gnuplot (%s by %s, gnuplot failed)" % (", ".join(fallbacks), builtin)
    return files, "gnuplot"


def gnuplot(run, name, title, panels):
    out = os.path.join(run.a.out, name)
    datdir = os.path.join(run.a.out, ".plotdata")
    os.makedirs(datdir, exist_ok=True)
    minutes = run.timeline and run.timeline[-1]["t"] > 600
    sc = ["set terminal png size 1200,%d font 'sans,9'" % (320 * len(panels) + 40),
          "set output '%s'" % out, "set multiplot layout %d,1 title '%s'" % (len(panels), title),
          "set grid", "set key outside right top",
          "set xlabel '%s'" % ("minutes" if minutes else "seconds")]
    for k, (ylabel, logy, ser) in enumerate(panels):
        sc.append("set ylabel '%s'" % ylabel)
        sc.append("set logscale y" if logy else "unset logscale y")
        parts = []
        for j, (label, col) in enumerate(ser):
            xs, ys = series(run, col)
            if logy:
                pos = [(x, y) for x, y in zip(xs, ys) if y > 0]
                xs, ys = [p[0] for p in pos], [p[1] for p in pos]
            if not xs:
                continue
            path = os.path.join(datdir, "%s.%d.%d.dat" % (name, k, j))
            with open(path, "w") as f:
                for x, y in zip(xs, ys):
                    f.write("%.3f %.6g\n" % (x / 60.0 if minutes else x, y))
            rgb = "#%02x%02x%02x" % PALETTE[j % len(PALETTE)]
            style = ("lines dt 2 lw 2 lc rgb '%s'" % rgb if label == "fit" else
                     "lines lw 1.5 dt %d lc rgb '%s'" % (1 + j // len(PALETTE), rgb))
            parts.append("'%s' using 1:2 with %s title '%s'"
                         % (path, style, label.replace("_", " ")))
        if parts:
            sc.append("plot " + ", ".join(parts))
        else:
            sc.append("set label 1 'no data' at graph 0.5,0.5 center")
            sc.append("plot [0:1] [0:1] NaN notitle")
            sc.append("unset label 1")
    sc.append("unset multiplot")
    p = subprocess.run(["gnuplot"], input="\n".join(sc) + "\n", text=True, capture_output=True,
                       timeout=60)
    if p.returncode != 0 or not os.path.exists(out):
        raise ValueError("gnuplot: " + p.stderr[-500:])
