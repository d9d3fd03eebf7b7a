# SPDX-License-Identifier: Apache-2.0
"""deploy/prometheus: the rule file, its promtool unit tests (each alert firing and not firing),
the example prometheus.yml and the Alertmanager example, each checked by the real tool."""
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
RULES = PROM / "tamsd-rules.yml"

pytestmark = pytest.mark.skipif(not shutil.which("promtool") or not shutil.which("amtool"),
                                reason="needs promtool and amtool (deps.sh --test installs them)")


def run(*cmd, cwd=PROM):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


def alerts():
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_rules_check():
    r = run("promtool", "check", "rules", str(RULES))
    assert r.returncode == 0, r.stdout + r.stderr


def test_rules_unit_tests_pass():
    r = run("promtool", "test", "rules", "tamsd-rules.test.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_every_alert_has_a_firing_and_a_quiet_case():
    tests = yaml.safe_load((PROM / "tamsd-rules.test.yml").read_text())["tests"]
    firing, quiet = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (firing if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {a["alert"] for a in alerts()}
    assert names == firing, names ^ firing
    assert names == quiet, names ^ quiet


@pytest.mark.parametrize("alert", [a["alert"] for a in alerts()])
def test_unit_tests_catch_an_alert_that_never_fires(alert, tmp_path):
    """Mutation: the alert's expression replaced by one that is never true must fail its test."""
    doc = yaml.safe_load(RULES.read_text())
    for g in doc["groups"]:
        for r in g["rules"]:
            if r.get("alert") == alert:
                r["expr"] = "vector(1) < 0"
    (tmp_path / "tamsd-rules.yml").write_text(yaml.safe_dump(doc))
    # Only the cases about this alert: the others would pass anyway and cost time.
    tests = yaml.safe_load((PROM / "tamsd-rules.test.yml").read_text())
    tests["tests"] = [t for t in tests["tests"]
                      if any(c["alertname"] == alert for c in t.get("alert_rule_test", []))]
    (tmp_path / "tamsd-rules.test.yml").write_text(yaml.safe_dump(tests))
    r = run("promtool", "test", "rules", "tamsd-rules.test.yml", cwd=tmp_path)
    assert r.returncode != 0, r.stdout
    assert alert in r.stdout + r.stderr


def test_prometheus_config_check():
    r = run("promtool", "check", "config", "prometheus.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_alertmanager_config_check(tmp_path):
    r = run("amtool", "check-config", "alertmanager.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    # The checker is not a rubber stamp: a route to an undefined receiver is refused.
    bad = (PROM / "alertmanager.yml").read_text().replace("receiver: media-ops-chat",
                                                          "receiver: nobody")
    (tmp_path / "am.yml").write_text(bad)
    r = run("amtool", "check-config", str(tmp_path / "am.yml"))
    assert r.returncode != 0
def test_every_alert_documented():
    doc = (ROOT / "docs" / "monitoring.md").read_text()
    for a in alerts():
        assert f"### {a['alert']}" in doc, a["alert"]
        assert a["annotations"]["runbook"] == f"docs/monitoring.md#{a['alert'].lower()}"
