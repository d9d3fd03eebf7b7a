# SPDX-License-Identifier: Apache-2.0
"""deploy/grafana's dashboard and deploy/prometheus's rules against real data: Debian's
Prometheus on 127.0.0.1 (temporary directory, free port, 1 s scrapes and rule evaluations)
scrapes a real tamsd under a small load (flows, uploads, segment registrations, cache hits, 404s),
then every expression is evaluated through Prometheus's HTTP API.

- Dashboard: every panel target (with $__rate_interval = 10s and $instance = .*) must parse and
  return at least one series. The store pool panels return data only on PostgreSQL (SQLite has
  no pool): on SQLite they must parse and return nothing.
- Rules: loaded by Prometheus itself, every rule must report health "ok" after evaluations on
  the scraped data; every expression must parse through the query API; every metric a rule
  reads must have series; every recording rule must have produced series, except the 5xx ratio,
  which has none until some request is answered 5xx (the load makes none). Alert expressions are
  not evaluated without their thresholds: promtool's unit tests (tests/deploy/test_prometheus.py) show
  each firing and not firing.
"""
import json
import pathlib
import re
import shutil
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
import yaml

from conftest import ON_PG, Server, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "tamsd-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "tamsd-dashboard.json"
PG_ONLY = "(PostgreSQL)"

pytestmark = pytest.mark.skipif(not shutil.which("prometheus"),
                                reason="needs prometheus (deps.sh --test installs it)")


def load(srv):
    """Flows, uploads, registrations, cache hits and 404s."""
    for n in range(3):
        fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        r = srv.put(f"/flows/{fid}", json={
            "id": fid, "source_id": sid, "format": "urn:x-nmos:format:video",
            "codec": "video/h264", "container": "video/mp2t",
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
        assert r.status_code == 201, r.text
        r = srv.post(f"/flows/{fid}/storage", json={"limit": 4})
        assert r.status_code == 201, r.text
        for i, obj in enumerate(r.json()["media_objects"]):
            put = obj["put_url"]
            assert srv.session.put(put["url"], data=b"m" * 4096,
                                   headers={"Content-Type": put["content-type"]},
                                   timeout=30).status_code == 200
            r = srv.post(f"/flows/{fid}/segments",
                         json={"object_id": obj["object_id"], "timerange": f"[{i}:0_{i + 1}:0)"})
            assert r.status_code == 201, r.text
        for _ in range(5):
            assert srv.get(f"/flows/{fid}").status_code == 200
            assert srv.get(f"/sources/{sid}").status_code == 200
        assert srv.get(f"/flows/{uuid.uuid4()}").status_code == 404
        assert srv.get(f"/flows/{fid}/segments?timerange=[0:0_2:0)").status_code == 200


class Prometheus:
    def __init__(self, tmp, target):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        rules = yaml.safe_load(RULES.read_text())
        for g in rules["groups"]:
            g["interval"] = "1s"
        (tmp / "rules.yml").write_text(yaml.safe_dump(rules))
        (tmp / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(tmp / "rules.yml")],
            "scrape_configs": [{"job_name": "tamsd", "static_configs": [{"targets": [target]}]}]}))
        self.log = open(tmp / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(self.url + "/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert self.proc.poll() is None, (tmp / "prometheus.log").read_text()
            assert time.time() < deadline, "prometheus did not become ready"
            time.sleep(0.2)

    def query(self, expr):
        r = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=30)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", (expr, body)
        return body["data"]["result"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("grafana-tamsd"))
    srv.start()
    prom = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{srv.port}")
    try:
        deadline = time.time() + 60
        while not prom.query('up{job="tamsd"} == 1'):
            assert time.time() < deadline, "prometheus never scraped tamsd"
            time.sleep(0.5)
        # Load spread over several scrapes, so that rates see it.
        for _ in range(4):
            load(srv)
            time.sleep(1.5)
        time.sleep(3)
        yield prom
    finally:
        prom.stop()
        srv.stop()


def dashboard_targets():
    dash = json.loads(DASHBOARD.read_text())
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]


def grafana_vars(expr):
    return expr.replace("$__rate_interval", "10s").replace("$instance", ".*")


@pytest.mark.parametrize("title,expr", list(dashboard_targets()))
def test_dashboard_expression_returns_data(scraped, title, expr):
    result = scraped.query(grafana_vars(expr))
    if PG_ONLY in title and not ON_PG:
        assert result == [], (title, result)
    else:
        assert result, f"{title}: {expr} returned no data"


def test_dashboard_instance_variable(scraped):
    dash = json.loads(DASHBOARD.read_text())
    var = next(v for v in dash["templating"]["list"] if v["name"] == "instance")
    m = re.fullmatch(r"label_values\((.*), (\w+)\)", var["definition"])
    r = requests.get(scraped.url + f"/api/v1/label/{m.group(2)}/values",
                     params={"match[]": m.group(1)}, timeout=30).json()
    assert r["status"] == "success" and len(r["data"]) == 1, r


def test_dashboard_covers_the_metrics_tamsd_serves(scraped):
    """Every tams_/process_ family tamsd exposes appears in some panel (or is named here as
    deliberately left out)."""
    left_out = {"tams_auth_failures_total", "tams_auth_forbidden_total", "tams_auth_throttled_total",
                "tams_auth_hash_queue_depth", "tams_flow_cache_hit_ratio",
                "tams_source_cache_hit_ratio", "tams_flow_cache_entries", "tams_flow_cache_bytes",
                "tams_source_cache_entries", "tams_source_cache_bytes",
                "tams_storage_writes_refused_total", "tams_webhook_filtered_total",
                "tams_webhook_withheld_total", "tams_gc_rounds_total",
                "tams_deletion_errors_total"}
    names = {s["__name__"] for s in requests.get(
        scraped.url + "/api/v1/series", params={"match[]": '{job="tamsd"}'}, timeout=30
    ).json()["data"]}
    names = {re.sub(r"_(bucket|sum|count)$", "", n) if "duration" in n else n for n in names
             if n.startswith(("tams_", "process_"))}
    text = DASHBOARD.read_text()
    missing = {n for n in names - left_out if n not in text}
    assert not missing, missing


def rules():
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_rules_evaluate_ok(scraped):
    deadline = time.time() + 30
    while True:
        groups = requests.get(scraped.url + "/api/v1/rules", timeout=30).json()["data"]["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        if len(loaded) == len(rules()) and all(r.get("lastEvaluation", "").startswith("2")
                                               and r["health"] != "unknown" for r in loaded):
            break
        assert time.time() < deadline, loaded
        time.sleep(0.5)
    bad = [(r["name"], r.get("lastError")) for r in loaded if r["health"] != "ok"]
    assert not bad, bad


RECORDED = re.compile(r"\b[a-z]+:[a-z0-9_]+:[a-z0-9_]+\b")
METRIC = re.compile(r"(?<![\w:])((?:tams|process)_[a-z0-9_]+|up)(?=\s*[{\[)]|\s*$|\s)")


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r["record"])
def test_rule_parses_and_its_series_exist(scraped, rule):
    scraped.query(rule["expr"])  # parses and evaluates
    for name in set(METRIC.findall(rule["expr"])):
        assert scraped.query(f"count({name})"), f"{name} has no series"
    # Recorded series an alert reads (and the recording rule's own output).
    recorded = set(RECORDED.findall(rule["expr"])) | ({rule["record"]} if "record" in rule else set())
    for name in recorded:
        if "5xx" not in name:
            assert scraped.query(f"count({name})"), f"{name} was never recorded"
