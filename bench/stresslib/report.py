# SPDX-License-Identifier: Apache-2.0
"""The report: per operation p50/p99/p99.9/max and errors, throughput, webhooks, caches,
RSS and fds judged flat or not, as summary.json, summary.md and timeline.csv, plus the plots."""
import collections
import json
import os

from .common import OPS, SEG_S, linfit, pct
from .plots import write_plots
from .webhooks import check_webhooks


def op_table(run):
    dur = max(run.load_duration, 1e-6)
    rows = []
    for op, what in OPS.items():
        lat = sorted(run.rec.lat[op])
        errs = run.rec.errors[op]
        n5 = sum(v for k, v in errs.items() if "5xx" in k)
        rows.append({"op": op, "what": what, "count": len(lat), "errors": sum(errs.values()),
                     "errors_5xx": n5, "error_reasons": dict(errs), "rate_per_s": len(lat) / dur,
                     "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "p999_ms": pct(lat, 99.9),
                     "max_ms": lat[-1] if lat else float("nan")})
    return rows


def flatness(timeline, col, min_abs, rel):
    """Slope of a line fitted to the second half of the samples, per hour, and whether the
    change it projects over that half stays below max(min_abs, rel * mean)."""
    pts = [(r["t"], r[col]) for r in timeline if r.get(col) is not None and r[col] == r[col]]
    if len(pts) < 6:
        return {"judged": False, "why": "too few samples"}
    half = pts[len(pts) // 2:]
    xs, ys = [p[0] for p in half], [p[1] for p in half]
    slope, icpt = linfit(xs, ys)
    span = xs[-1] - xs[0]
    mean = sum(ys) / len(ys)
    change = slope * span
    bound = max(min_abs, rel * mean)
    return {"judged": True, "slope_per_hour": slope * 3600.0, "second_half_s": span,
            "projected_change": change, "bound": bound, "mean": mean, "first": pts[0][1],
            "last": pts[-1][1], "max": max(p[1] for p in pts), "min": min(p[1] for p in pts),
            "flat": abs(change) <= bound, "fit": (slope, icpt), "from_t": xs[0]}


def server_routes(mf, ml):
    """Per route, tamsd's own request count and mean time over the run (histogram sum/count)."""
    out = []
    for k, v in (ml or {}).items():
        if k.startswith("tams_http_request_duration_seconds_count{"):
            route = k.split('route="')[1].split('"')[0]
            n = v - mf.get(k, 0.0)
            ksum = k.replace("_count{", "_sum{")
            t = ml.get(ksum, 0.0) - mf.get(ksum, 0.0)
            if n > 0:
                out.append({"route": route, "count": n, "mean_ms": 1000.0 * t / n})
    return sorted(out, key=lambda r: -r["count"])


def server_statuses(m):
    out = collections.Counter()
    for k, v in (m or {}).items():
        if k.startswith("tams_http_requests_total{"):
            st = k.split('status="')[1].split('"')[0]
            out[st[0] + "xx"] += v
    return out


def fmt(v, nd=2):
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def report(run, argv):
    a = run.a
    ops = op_table(run)
    wh = check_webhooks(run)
    rss = flatness(run.timeline, "rss_mb", 1.0, 0.02)
    fds = flatness(run.timeline, "fds", 2.0, 0.05)
    mf, ml = run.metrics_first or {}, run.metrics_last or {}
    cache = {}
    for kind in ("flow", "source"):
        name = "tams_%s_cache_requests_total" % kind
        h = ml.get(name + '{result="hit"}', 0) - mf.get(name + '{result="hit"}', 0)
        mi = ml.get(name + '{result="miss"}', 0) - mf.get(name + '{result="miss"}', 0)
        cache[kind] = {"hits": h, "misses": mi, "ratio": h / (h + mi) if h + mi else float("nan"),
                       # tamsd's own gauge: since its start, so it includes the setup's reads
                       "tamsd_ratio": ml.get("tams_%s_cache_hit_ratio" % kind, float("nan")),
                       "entries": ml.get("tams_%s_cache_entries" % kind, float("nan")),
                       "bytes": ml.get("tams_%s_cache_bytes" % kind, float("nan"))}
    srv_status = server_statuses(ml)
    webhook_metrics = {k: ml.get(k, float("nan")) - mf.get(k, 0.0) for k in (
        "tams_webhook_deliveries_total", "tams_webhook_failed_attempts_total",
        "tams_webhook_given_up_total")}
    webhook_metrics["tams_webhook_queue_depth (end)"] = ml.get("tams_webhook_queue_depth",
                                                               float("nan"))
    reasons = []
    for o in ops:
        if o["errors"]:
            reasons.append("%s: %d errors (%s)" % (o["op"], o["errors"], ", ".join(
                "%s x%d" % kv for kv in o["error_reasons"].items())))
    if srv_status.get("5xx"):
        reasons.append("tamsd counted %d 5xx answers in /metrics" % srv_status["5xx"])
    if wh["lost"]:
        reasons.append("%d webhook events lost" % wh["lost"])
    if wh["duplicated_or_unexpected"]:
        reasons.append("%d webhook events duplicated or unexpected"
                       % wh["duplicated_or_unexpected"])
    if wh["order_violations"]:
        reasons.append("%d webhook order violations" % wh["order_violations"])
    if wh["malformed"]:
        reasons.append("%d malformed webhook deliveries" % wh["malformed"])
    if webhook_metrics["tams_webhook_given_up_total"]:
        reasons.append("tamsd gave up %d webhook events"
                       % webhook_metrics["tams_webhook_given_up_total"])
    if run.fatal:
        reasons.append("driver thread failed: " + "; ".join(run.fatal))
    for name, fl in (("RSS", rss), ("open fds", fds)):
        if a.judge_flat and fl["judged"] and not fl["flat"]:
            reasons.append("%s not flat in the second half (%+.2f over %.0f s, bound %.2f)" % (
                name, fl["projected_change"], fl["second_half_s"], fl["bound"]))
    warnings = ["%s never ran (a run too short for its scale?)" % o["op"]
                for o in ops if o["count"] == 0]
    verdict = "FAIL" if reasons else "PASS"

    plots, plotter = write_plots(run, rss, fds)
    total = sum(o["count"] for o in ops)
    summary = {
        "verdict": verdict, "reasons": reasons, "command": argv,
        "started": run.started_at.isoformat(),
        "duration_s": run.load_duration, "drain_s": run.drain_s, "label": a.label,
        "database": a.db_label, "tamsd": a.tamsd_label, "machine": a.machine,
        "loadavg_start": run.load_start, "loadavg_end": run.load_end,
        "loadavg_samples": {"min": min((r["load1"] for r in run.timeline), default=None),
                            "median": pct(sorted(r["load1"] for r in run.timeline), 50),
                            "max": max((r["load1"] for r in run.timeline), default=None)},
        "scale": {k: getattr(a, k) for k in ("scale", "flows", "speed", "editors", "listers",
                                             "ingest_threads", "lifetime", "keep", "trim_every",
                                             "trim_chunk", "alloc_batch", "static_flows", "think",
                                             "sample_every")},
        "segments_per_s_target": a.flows * a.speed / SEG_S, "ingest_late": run.ingest_late,
        "operations": ops, "requests_total": total,
        "requests_per_s": total / max(run.load_duration, 1e-6),
        "webhooks": wh, "webhook_metrics": webhook_metrics, "cache": cache,
        "server_statuses": dict(srv_status), "server_routes": server_routes(mf, ml),
        "warnings": warnings, "rss_mb": rss, "fds": fds,
        "tamsd_cpu_s": ((run.proc_last[3] - run.proc_first[3])
                        if run.proc_first and run.proc_last else None),
        "notes": dict(run.rec.notes), "plots": plots, "plotter": plotter,
    }
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    write_timeline(run)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(markdown(summary))
    return summary


def write_timeline(run):
    cols = []
    for r in run.timeline:
        for k in r:
            if k not in cols:
                cols.append(k)
    with open(os.path.join(run.a.out, "timeline.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for r in run.timeline:
            f.write(",".join(fmt(r.get(k), 4) if isinstance(r.get(k), float) else str(r.get(k, ""))
                             for k in cols) + "\n")


def markdown(s):
    L = []
    w = L.append
    w("# tamsd stress run: **%s**" % s["verdict"])
    w("")
    if s["reasons"]:
        w("Why it failed:")
        w("")
        for r in s["reasons"]:
            w("- " + r)
        w("")
    for x in s["warnings"]:
        w("Warning: " + x)
        w("")
    w("- command: `%s`" % " ".join(s["command"]))
    w("- started %s, load phase %.0f s, webhook drain %.1f s"
      % (s["started"], s["duration_s"], s["drain_s"]))
    w("- tamsd: %s; metadata: %s" % (s["tamsd"], s["database"]))
    w("- machine: %s" % s["machine"])
    la = s["loadavg_samples"]
    w("- load average (1 min): %s at the start, %s at the end; during the run min %s, "
      "median %s, max %s" % (s["loadavg_start"][0], s["loadavg_end"][0], fmt(la["min"]),
                             fmt(la["median"]), fmt(la["max"])))
    sc = s["scale"]
    w("- scale `%s`: %d live flows, a 2 s segment per flow every %.2f s (%.1f segments/s), flows "
      "rotated every %.0f s, %d editors, %d listers, retention keeps %.0f s (trim every %.1f s, "
      "up to %d segments), %d static flows, %d ingest threads, think time %.3f s" % (
          sc["scale"], sc["flows"], SEG_S / sc["speed"], s["segments_per_s_target"], sc["lifetime"],
          sc["editors"], sc["listers"], sc["keep"], sc["trim_every"], sc["trim_chunk"],
          sc["static_flows"], sc["ingest_threads"], sc["think"]))
    if s["label"]:
        w("- label: %s" % s["label"])
    w("")
    w("## Operations")
    w("")
    w("Latency is measured by the driver (Python, on the same machine): request sent to body read.")
    w("")
    w("| operation | request | count | per s | errors | p50 ms | p99 ms | p99.9 ms | max ms |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for o in s["operations"]:
        w("| %s | `%s` | %d | %.1f | %s | %s | %s | %s | %s |" % (
            o["op"], o["what"], o["count"], o["rate_per_s"],
            ("**%d**" % o["errors"]) if o["errors"] else "0",
            fmt(o["p50_ms"], 3), fmt(o["p99_ms"], 3), fmt(o["p999_ms"], 3), fmt(o["max_ms"], 1)))
    w("")
    w("All operations: %d requests, %.1f per second. tamsd's own count of answers by class "
      "(from /metrics, whole run including setup): %s. Ingest ticks more than one period late: %d."
      % (s["requests_total"], s["requests_per_s"],
         ", ".join("%s %d" % (k, v) for k, v in sorted(s["server_statuses"].items())) or "-",
         s["ingest_late"]))
    if s["tamsd_cpu_s"] is not None:
        w("tamsd used %.1f s of CPU in the load phase (%.0f%% of one core, %.0f us per request)."
          % (s["tamsd_cpu_s"], 100 * s["tamsd_cpu_s"] / max(s["duration_s"], 1e-6),
             1e6 * s["tamsd_cpu_s"] / max(s["requests_total"], 1)))
    if s["notes"]:
        w("Notes: " + "; ".join("%s: %d" % kv for kv in s["notes"].items()))
    w("")
    w("tamsd's own view of the same load phase (from `tams_http_request_duration_seconds`: "
      "requests and mean time from request start to response queued, per route template, "
      "methods together):")
    w("")
    w("| route | requests | mean ms |")
    w("|---|---:|---:|")
    for r in s["server_routes"]:
        w("| `%s` | %d | %.3f |" % (r["route"], r["count"], r["mean_ms"]))
    w("")
    w("## Webhooks")
    w("")
    wh = s["webhooks"]
    w("| webhook | expected | received |")
    w("|---|---:|---:|")
    for p in sorted(set(wh["expected"]) | set(wh["received"])):
        w("| `%s` | %d | %d |" % (p, wh["expected"].get(p, 0), wh["received"].get(p, 0)))
    w("")
    w("Lost %d, duplicated or unexpected %d, order violations %d (per flow and source: created "
      "first, deleted last, segments_added and segments_deleted in timeline order, a deletion "
      "after the additions it removes), malformed %d. Delivery lag (event_timestamp to receipt) "
      "p50 %s ms, p99 %s ms, max %s ms." % (
          wh["lost"], wh["duplicated_or_unexpected"], wh["order_violations"], wh["malformed"],
          fmt(wh["lag_ms"]["p50"], 1), fmt(wh["lag_ms"]["p99"], 1), fmt(wh["lag_ms"]["max"], 1)))
    wm = s["webhook_metrics"]
    w("tamsd /metrics over the run: "
      + ", ".join("%s %s" % (k, fmt(v, 0)) for k, v in wm.items()) + ".")
    for ex in wh["examples"]:
        w("- " + ex)
    w("")
    w("## Caches")
    w("")
    for kind in ("flow", "source"):
        c = s["cache"][kind]
        w("- %s cache (`tams_%s_cache_requests_total`): %d hits, %d misses over the run, hit "
          "ratio **%s**; tamsd's `tams_%s_cache_hit_ratio` at the end %s (since its start); "
          "%s entries, %s MB at the end" % (
              kind, kind, c["hits"], c["misses"], fmt(c["ratio"], 3), kind,
              fmt(c.get("tamsd_ratio", float("nan")), 3), fmt(c.get("entries", float("nan")), 0),
              fmt(c.get("bytes", float("nan")) / 1048576.0, 2)))
    w("")
    w("## Resources")
    w("")
    w("Sampled from /proc every %.1f s. Judged on the second half of the run: the slope of a "
      "least-squares line through the samples, and the change it projects over that half, "
      "against max(1 MB, 2%% of the mean) for RSS and max(2, 5%% of the mean) for fds."
      % s["scale"]["sample_every"])
    w("")
    w("| measure | first | last | min | max | slope per hour (2nd half) "
      "| change over 2nd half | flat |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, key, unit in (("tamsd RSS", "rss_mb", "MB"), ("tamsd open fds", "fds", "")):
        fl = s[key]
        if not fl.get("judged"):
            w("| %s | - | - | - | - | - | - | not judged (%s) |" % (name, fl.get("why")))
            continue
        w("| %s | %s | %s | %s | %s | %+.2f %s | %+.2f %s (bound %.2f) | %s |" % (
            name, fmt(fl["first"]), fmt(fl["last"]), fmt(fl["min"]), fmt(fl["max"]),
            fl["slope_per_hour"], unit, fl["projected_change"], unit, fl["bound"],
            "yes" if fl["flat"] else "**no**"))
    w("")
    if s["plots"]:
        w("## Plots")
        w("")
        w("Drawn by %s." % s["plotter"])
        w("")
        for p in s["plots"]:
            w("![%s](%s)" % (p, p))
        w("")
    return "\n".join(L) + "\n"
