# SPDX-License-Identifier: Apache-2.0
"""deploy/k8s: every kustomization rendered offline with `kubectl kustomize`, every object
validated against the Kubernetes API schemas (the pinned kubernetes-models packages, run by
deploy/k8s/test/validate.js), the policy properties asserted, and the same rendering (as a set
of objects) from Debian 12's own kubectl 1.20 (kubernetes-client, with kustomize v2.0)."""
import functools
import json
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
VALIDATOR = K8S / "test"
KUSTOMIZATIONS = ["base", "overlays/embedded", "overlays/scale-out", "prometheus-operator"]
OVERLAYS = ["overlays/embedded", "overlays/scale-out"]
API_PORT = 8080

pytestmark = pytest.mark.skipif(not shutil.which("kubectl") or not shutil.which("npm"),
                                reason="needs kubectl and npm (deps.sh --test installs them)")


def kustomize(kubectl, path):
    r = subprocess.run([kubectl, "kustomize", str(K8S / path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@functools.lru_cache(maxsize=None)
def render(path):
    return kustomize("kubectl", path)


def objects(path, kind):
    return [o for o in render(path) if o["kind"] == kind]


def one(path, kind, name="tamsd"):
    found = [o for o in objects(path, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, (path, kind, name)
    return found[0]


def key(o):
    return (o["kind"], o["metadata"]["name"])


@pytest.fixture(scope="session")
def validator():
    """npm ci of the pinned packages (package-lock.json), once."""
    if not (VALIDATOR / "node_modules" / ".package-lock.json").is_file():
        r = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                           cwd=VALIDATOR, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    return VALIDATOR / "validate.js"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_objects_valid_against_api_schemas(path, validator, tmp_path):
    objs = render(path)
    assert objs
    (tmp_path / "objs.json").write_text(json.dumps(objs))
    r = subprocess.run(["node", str(validator), str(tmp_path / "objs.json")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("\nok ") + r.stdout.startswith("ok ") == len(objs), r.stdout


def test_validator_refuses_a_bad_object(validator, tmp_path):
    """Not a rubber stamp: a wrong type and an unknown kind are refused."""
    dep = json.loads(json.dumps(one("overlays/scale-out", "Deployment")))
    dep["spec"]["replicas"] = "three"
    (tmp_path / "bad.json").write_text(json.dumps([dep, {"apiVersion": "v1", "kind": "Nope",
                                                         "metadata": {"name": "x"}}]))
    r = subprocess.run(["node", str(validator), str(tmp_path / "bad.json")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "invalid Deployment/tamsd" in r.stdout and "invalid Nope/x" in r.stdout


@pytest.fixture(scope="session")
def kubectl_120(tmp_path_factory):
    """Debian 12's kubectl 1.20 (package kubernetes-client), unpacked: the one a fresh Debian
    gets. Downloaded with apt-get download unless it is the kubectl installed."""
    r = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True)
    if 'GitVersion:"v1.20' in r.stdout:
        return "kubectl"
    d = tmp_path_factory.mktemp("kubernetes-client")
    r = subprocess.run(["apt-get", "download", "kubernetes-client"], cwd=d, capture_output=True,
                       text=True, timeout=300)
    debs = list(d.glob("kubernetes-client_*.deb"))
    if r.returncode != 0 or not debs:
        pytest.skip(f"apt-get download kubernetes-client failed: {r.stderr[-300:]}")
    subprocess.run(["dpkg", "-x", str(debs[0]), str(d / "root")], check=True)
    return str(d / "root" / "usr" / "bin" / "kubectl")


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_kubectl_1_20_renders_the_same(path, kubectl_120):
    old = sorted(kustomize(kubectl_120, path), key=key)
    assert old == sorted(render(path), key=key)


def test_prometheusrule_generated_from_the_rules_file():
    r = subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "k8s-rules.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "tamsd-rules.yml").read_text())
    assert one("prometheus-operator", "PrometheusRule")["spec"]["groups"] == rules["groups"]


def pod(path):
    return one(path, "Deployment")["spec"]["template"]


@pytest.mark.parametrize("path", OVERLAYS)
def test_no_api_token_and_no_permission(path):
    assert one(path, "ServiceAccount")["automountServiceAccountToken"] is False
    spec = pod(path)["spec"]
    assert spec["serviceAccountName"] == "tamsd"
    assert spec["automountServiceAccountToken"] is False
    assert one(path, "Role")["rules"] == []
    binding = one(path, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "tamsd"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tamsd"}]
    assert not objects(path, "ClusterRole") and not objects(path, "ClusterRoleBinding")


@pytest.mark.parametrize("path", OVERLAYS)
def test_restricted_security_context(path):
    spec = pod(path)["spec"]
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] > 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    for c in spec["containers"] + spec.get("initContainers", []):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc.get("privileged", False) is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc.get("seccompProfile", {"type": "RuntimeDefault"}) == {"type": "RuntimeDefault"}
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (c["name"], kind)
    for v in spec["volumes"]:
        assert "hostPath" not in v


@pytest.mark.parametrize("path", OVERLAYS)
def test_probes_ports_and_selectors(path):
    tmpl = pod(path)
    c = tmpl["spec"]["containers"][0]
    assert c["ports"] == [{"name": "http", "containerPort": API_PORT, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    cm = one(path, "ConfigMap")["data"]
    assert cm["TAMS_LISTEN"].endswith(f":{API_PORT}")
    labels = tmpl["metadata"]["labels"]
    dep = one(path, "Deployment")
    sel = dep["spec"]["selector"]["matchLabels"]
    for s in (sel, one(path, "Service")["spec"]["selector"],
              one(path, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
              one(path, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]):
        assert s and s.items() <= labels.items(), s
    assert one(path, "Service")["spec"]["ports"][0]["targetPort"] == "http"
    hpa = one(path, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "tamsd"}
    assert hpa["minReplicas"] <= dep["spec"]["replicas"] <= hpa["maxReplicas"]
    assert "maxUnavailable" in one(path, "PodDisruptionBudget")["spec"]
    # Every file the pod reads is mounted: config from the ConfigMap, secrets from Secrets.
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    for var in ("TAMS_DATA_DIR", "TAMS_JWT_KEY_FILE", "TAMS_STORAGE_CONFIG"):
        if var in cm:
            assert any(cm[var] == m or cm[var].startswith(m + "/") for m in mounts), var


@pytest.mark.parametrize("path", OVERLAYS)
def test_network_policy(path):
    deny = one(path, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    np = one(path, "NetworkPolicy")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    # Ingress: the API port only, and only from selected namespaces or pods.
    assert len(np["ingress"]) == 1
    rule = np["ingress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": API_PORT}]
    assert rule["from"]
    for peer in rule["from"]:
        assert "ipBlock" not in peer
        for sel in peer.values():
            assert sel.get("matchLabels") or sel.get("matchExpressions"), peer
    # Egress: DNS to the cluster resolver, everything else to configured CIDRs on named ports.
    dns, *others = np["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert others
    ports = set()
    for e in others:
        assert e["to"] and e["ports"]
        for peer in e["to"]:
            assert list(peer) == ["ipBlock"]
            assert not peer["ipBlock"]["cidr"].endswith("/0")
        ports |= {p["port"] for p in e["ports"]}
    assert (5432 in ports) == (path == "overlays/scale-out")  # PostgreSQL only where used
    assert {443} <= ports


def test_embedded_overlay():
    path = "overlays/embedded"
    dep = one(path, "Deployment")["spec"]
    assert dep["replicas"] == 1 and dep["strategy"] == {"type": "Recreate"}
    hpa = one(path, "HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] == hpa["maxReplicas"] == 1
    data = next(v for v in dep["template"]["spec"]["volumes"] if v["name"] == "data")
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": "tamsd-data"}}
    assert one(path, "PersistentVolumeClaim", "tamsd-data")["spec"]["accessModes"] == \
        ["ReadWriteOnce"]
    assert "TAMS_DATABASE" not in one(path, "ConfigMap")["data"]  # SQLite in the data dir
    env = dep["template"]["spec"]["containers"][0].get("env", [])
    assert not [e for e in env if e["name"] == "TAMS_DATABASE"]


def test_scale_out_overlay():
    path = "overlays/scale-out"
    dep = one(path, "Deployment")["spec"]
    assert dep["replicas"] >= 2
    assert dep["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    c = dep["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    assert env["TAMS_DATABASE"]["valueFrom"]["secretKeyRef"] == {"name": "tamsd-db-app",
                                                                 "key": "uri"}
    assert env["TAMS_WEBHOOK_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == \
        "tamsd-webhook-key"
    vols = {v["name"]: v for v in dep["template"]["spec"]["volumes"]}
    mount = next(m for m in c["volumeMounts"] if m["name"] == "storage")
    assert vols["storage"]["secret"]["secretName"] == "tamsd-storage" and mount["readOnly"]
    assert one(path, "ConfigMap")["data"]["TAMS_STORAGE_CONFIG"].startswith(
        mount["mountPath"] + "/")
    hpa = one(path, "HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_no_secret_values_in_the_manifests(path):
    assert not objects(path, "Secret")
    for cm in objects(path, "ConfigMap"):
        for k in cm["data"]:
            assert not any(w in k for w in ("PASSWORD", "SECRET_KEY", "JWT_SECRET", "DATABASE")), k


def test_service_monitor_scrapes_the_service():
    sm = one("prometheus-operator", "ServiceMonitor")["spec"]
    svc = one("overlays/scale-out", "Service")
    assert sm["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert svc["metadata"]["labels"][sm["jobLabel"]] == "tamsd"  # the job the rules select
    assert sm["endpoints"][0]["port"] in {p["name"] for p in svc["spec"]["ports"]}
    assert sm["endpoints"][0]["path"] == "/metrics"
