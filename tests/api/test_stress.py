# SPDX-License-Identifier: Apache-2.0
"""The stress and soak framework (bench/stress.sh, bench/stress.py) runs briefly against the
tamsd under test, so that it cannot rot: about 10 s of the `tiny` mix, then the report must
exist, name every operation with a non-zero count and no error, have lost no webhook event, and
hold its plots (also redrawn by the builtin PNG writer, the one a machine without gnuplot gets).
On a PostgreSQL run (TAMS_TEST_DATABASE) tamsd uses a schema of the test cluster."""
import json
import os
import shutil
import subprocess

from conftest import BIN, ON_PG, ROOT, SANITIZER_MARKERS, pg_schema_url

DURATION = 10
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_pngs(out, names):
    for name in names:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR", name
        assert len(data) > 2000, (name, len(data))  # more than an empty frame


def test_stress_short_run(tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    env.update(BENCH_NO_BUILD="1", BENCH_TAMSD=BIN, BENCH_OUT=str(tmp_path / "bench-out"),
               TMPDIR=str(tmp_path))
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    cmd = [str(ROOT / "bench" / "stress.sh"), "--duration", str(DURATION), "--scale", "tiny",
           "--threads", "2", "--out", str(out)]
    if ON_PG:
        cmd += ["--database", pg_schema_url(tmp_path / "data")]
    if os.environ.get("TAMSD_SANITIZED"):
        cmd += ["--drain-timeout", "120"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=DURATION + 240)
    log = (out / "tamsd.log").read_text(errors="replace") if (out / "tamsd.log").exists() else ""
    for marker in SANITIZER_MARKERS:
        assert marker not in log, log
    summary_path = out / "summary.json"
    assert summary_path.exists(), p.stdout + p.stderr
    s = json.loads(summary_path.read_text())
    assert p.returncode == 0, (s["reasons"], p.stderr[-3000:])
    assert s["verdict"] == "PASS" and s["reasons"] == []
    assert (out / "tamsd-exit-status").read_text().strip() == "0"

    ops = {o["op"]: o for o in s["operations"]}
    assert set(ops) == {"flow_create", "storage_alloc", "object_put", "segment_register",
                        "segments_window", "flow_get", "source_get", "flow_tag_put",
                        "flows_list", "segments_delete", "flow_delete", "metrics"}
    for name, o in ops.items():
        assert o["count"] > 0, name
        assert o["errors"] == 0, (name, o["error_reasons"])
        assert o["p50_ms"] <= o["p99_ms"] <= o["p999_ms"] <= o["max_ms"], o
    assert s["server_statuses"].get("5xx", 0) == 0

    wh = s["webhooks"]
    assert wh["expected"]["/all"] > 0 and wh["expected"]["/some"] > 0
    assert wh["received"] == wh["expected"]
    assert wh["lost"] == wh["duplicated_or_unexpected"] == wh["order_violations"] == 0

    for kind in ("flow", "source"):  # from tamsd's /metrics: the counters and its own gauge
        c = s["cache"][kind]
        assert 0 <= c["ratio"] <= 1 and c["hits"] + c["misses"] > 0, c
        assert 0 <= c["tamsd_ratio"] <= 1 and c["entries"] > 0, c
    assert s["rss_mb"]["judged"] and s["fds"]["judged"]

    md = (out / "summary.md").read_text()
    assert "**PASS**" in md
    for name in ops:
        assert "| %s |" % name in md
    assert len(s["plots"]) == 5
    # scripts/deps.sh --test installs gnuplot: then every plot is gnuplot's, none a fallback
    assert s["plotter"] == ("gnuplot" if shutil.which("gnuplot") else
                            "the builtin PNG writer (bench/stresslib/png.py)"), s["plotter"]
    for name in s["plots"]:
        assert "](%s)" % name in md
    check_pngs(out, s["plots"])
    rows = (out / "timeline.csv").read_text().splitlines()
    assert rows[0].startswith("t,") and len(rows) >= DURATION // 2
    for col in ("rss_mb", "fds", "total_rps", "flow_cache_hit_ratio", "flow_cache_mb"):
        assert col in rows[0].split(","), (col, rows[0])

    # The builtin writer draws the same plots from timeline.csv.
    p = subprocess.run(["python3", str(ROOT / "bench" / "stress.py"), "--url", "http://unused",
                        "--out", str(out), "--replot", "--plotter", "builtin"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["plots"] == s["plots"]
    check_pngs(out, s["plots"])
