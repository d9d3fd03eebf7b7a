# SPDX-License-Identifier: Apache-2.0
"""Service endpoints: /, /service, /service/storage-backends, /health, /metrics."""
import re
import uuid

from conftest import API_VERSION, check_error, validate


def test_root_lists_resources(server):
    r = server.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == ["service", "flows", "sources", "flow-delete-requests"]


def test_service_document(server):
    r = server.get("/service")
    assert r.status_code == 200
    body = r.json()
    validate(body, "service.json")
    assert body["api_version"] == API_VERSION
    assert body["type"].startswith("urn:x-tams:service")
    assert body["name"] == "tamsd"
    assert body["description"]


def test_head_matches_get(server):
    for path in ("/", "/service", "/service/storage-backends", "/health"):
        g = server.get(path)
        h = server.head(path)
        assert h.status_code == g.status_code == 200
        assert h.content == b""
        for name in ("Content-Type", "Content-Length"):
            assert h.headers.get(name) == g.headers.get(name), (path, name)


def test_service_post_persists_across_restart(make_server, tmpdir_path):
    data = tmpdir_path / "persist"
    srv = make_server(data_dir=data)
    r = srv.post("/service", json={"name": "Studio A", "description": "ingest for studio A"})
    assert r.status_code == 200, r.text
    body = srv.get("/service").json()
    assert body["name"] == "Studio A"
    assert body["description"] == "ingest for studio A"
    r = srv.post("/service", json={"description": "only the description"})
    assert r.status_code == 200
    assert srv.get("/service").json()["name"] == "Studio A"
    srv.stop()
    srv2 = make_server(data_dir=data)
    body = srv2.get("/service").json()
    validate(body, "service.json")
    assert body["name"] == "Studio A"
    assert body["description"] == "only the description"


def test_service_post_bad_bodies(server):
    before = server.get("/service").json()
    cases = [
        (b'{"name": 5}', 400),
        (b'{"description": null}', 400),
        (b'{"api_version": "8.0"}', 400),
        (b'["name"]', 400),
        (b'"just a string"', 400),
        (b'{"name": "x"', 400),
        (b'{"name": "x"} trailing', 400),
        (b'', 400),
        (b'\xff\xfe', 400),
        (b'{"name": "a\x00b"}', 400),
    ]
    for body, status in cases:
        r = server.post("/service", data=body, headers={"Content-Type": "application/json"})
        check_error(r, status)
    # A body not sent as application/json is 400 like any other body the server cannot take
    # (docs/decisions.md: the spec lists 400, never 415), and nothing changed.
    for body, headers in ((b'{"name":"x"}', {"Content-Type": "text/plain"}),
                          (b'{"name":"x"}', {}),
                          (b'name=x', {}),
                          (b'name=x', {"Content-Type": "application/x-www-form-urlencoded"})):
        r = server.post("/service", data=body, headers=headers)
        assert "Content-Type" in check_error(r, 400)["summary"], (body, headers)
    assert server.get("/service").json() == before


def test_service_post_unicode_and_escapes(server):
    name = 'Studio "Ä" \\ \u2603 \n tab\t'
    assert server.post("/service", json={"name": name}).status_code == 200
    assert server.get("/service").json()["name"] == name


def test_storage_backends(server):
    r = server.get("/service/storage-backends")
    assert r.status_code == 200
    body = r.json()
    validate(body, "storage-backends-list.json")
    assert len(body) == 1
    backend = body[0]
    validate(backend, "storage-backend.json")
    uuid.UUID(backend["id"])
    assert backend["default_storage"] is True
    assert backend["label"] == "local"
    assert backend["store_type"] == "http_object_store"


def test_storage_backend_id_is_stable_and_configurable(make_server, tmpdir_path):
    data = tmpdir_path / "ids"
    srv = make_server(data_dir=data)
    first = srv.get("/service/storage-backends").json()[0]["id"]
    srv.stop()
    srv = make_server(data_dir=data)
    assert srv.get("/service/storage-backends").json()[0]["id"] == first
    srv.stop()
    fixed = "3b8e1a8c-4a4e-4f6c-9d7e-0c2f3e4d5a6b"
    srv = make_server(args=["--local-store-id", fixed, "--local-store-label", "media"])
    body = srv.get("/service/storage-backends").json()
    assert body[0]["id"] == fixed and body[0]["label"] == "media"


def test_health_never_touches_store(server):
    r = server.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_metrics_move(server):
    server.get("/service")
    server.get("/service")
    server.get("/no/such/path")
    text = server.get("/metrics").text
    m = re.search(r'tams_http_requests_total\{route="/service",method="GET",status="200"\} (\d+)',
                  text)
    assert m and int(m.group(1)) >= 2, text
    assert 'route="unmatched",method="GET",status="404"' in text
    assert 'tams_http_request_duration_seconds_bucket{route="/service",le="+Inf"}' in text
    server.get("/service")
    text2 = server.get("/metrics").text
    m2 = re.search(r'tams_http_requests_total\{route="/service",method="GET",status="200"\} (\d+)',
                   text2)
    assert int(m2.group(1)) == int(m.group(1)) + 1
