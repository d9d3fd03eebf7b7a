# SPDX-License-Identifier: Apache-2.0
"""Webhooks (notes §8): registration semantics, the eight event types with their payloads and
the api-key header, filters, one event per request, and delivery that survives a restart."""
import copy
import http.server
import json
import threading
import time
import uuid

import jsonschema
import pytest
import yaml

from conftest import (API_VERSION, ON_PG, SPEC, SCHEMAS, Server, check_error, db_scalar,
                      free_port, only_70, validate)
from test_deletion import EXT, allocate, make_flow, new_id, tr, upload

ALLOW = ["--webhooks-allow-private", "true"]
EVENTS = ["flows/created", "flows/updated", "flows/deleted", "flows/segments_added",
          "flows/segments_deleted", "sources/created", "sources/updated", "sources/deleted"]


class Receiver:
    """An HTTP server on 127.0.0.1 in a thread that records every POST; `status` is what it
    answers (503 simulates an outage)."""

    def __init__(self, port=0):
        self.requests = []
        self.status = 200
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.status
                if status < 300:
                    with outer.lock:
                        outer.requests.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def events(self, path=None):
        with self.lock:
            return [b for p, _, b in self.requests if path is None or p == path]

    def wait(self, n, path=None, timeout=15):
        deadline = time.time() + timeout
        while len(self.events(path)) < n:
            assert time.time() < deadline, (n, self.events(path))
            time.sleep(0.05)
        return self.events(path)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("webhooks"), args=ALLOW)
    s.start()
    yield s
    s.stop()


def register(srv, status=201, **body):
    r = srv.post("/service/webhooks", json=body)
    if status >= 400:
        check_error(r, status)
    else:
        assert r.status_code == status, (r.status_code, r.text)
    return r


def hooks(srv):
    r = srv.get("/service/webhooks")
    assert r.status_code == 200, r.text
    return r.json()


# ---- event schemas from the YAML's `webhooks` section ------------------------------------------

_YAML = yaml.safe_load((SPEC / "TimeAddressableMediaStore.yaml").read_text())


def _inline(node):
    if isinstance(node, dict):
        if node.get("$ref", "").startswith("#/components/schemas/"):
            return _inline(_YAML["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
        if node.get("$ref", "").startswith("schemas/"):
            return {"$ref": node["$ref"][len("schemas/"):]}
        return {k: _inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


def validate_event(body):
    schema = copy.deepcopy(_YAML["webhooks"][body["event_type"]]["post"]["requestBody"]
                           ["content"]["application/json"]["schema"])
    schema = _inline(schema)
    if body["event_type"] == "flows/segments_deleted":
        # 7.0 schema typo (notes Appendix A.1): the const says segments_added.
        schema["properties"]["event_type"]["const"] = "flows/segments_deleted"
    resolver = jsonschema.RefResolver(base_uri=SCHEMAS.as_uri() + "/", referrer=schema)
    jsonschema.Draft202012Validator(schema, resolver=resolver,
                                    format_checker=jsonschema.FormatChecker()).validate(body)
    assert body["event_timestamp"].endswith("Z")


# ---- registration ----------------------------------------------------------------------------------

def test_service_lists_webhooks(srv):
    body = srv.get("/service").json()
    validate(body, "service.json")
    assert [m["name"] for m in body["event_stream_mechanisms"]] == ["webhooks"]


@only_70("webhooks have ids, PUT and DELETE (changes 6-8): test_v82_webhooks.py::test_crud")
def test_register_update_remove(srv, receiver):
    url = receiver.url("/reg")
    register(srv, url=url, api_key_name="X-Key", api_key_value="s3cret", events=["flows/created"])
    mine = [h for h in hooks(srv) if h["url"] == url]
    assert mine == [{"url": url, "api_key_name": "X-Key", "events": ["flows/created"]}]
    schema = copy.deepcopy(json.loads((SCHEMAS / "webhook.json").read_text()))
    del schema["properties"]["api_key_value"]
    schema["additionalProperties"] = False
    for h in hooks(srv):
        jsonschema.validate(h, schema)
        assert "api_key_value" not in h
    assert srv.head("/service/webhooks").status_code == 200
    # The same identity again updates (201), a different key is another registration.
    register(srv, url=url, api_key_name="X-Key", api_key_value="s3cret",
             events=["flows/updated", "flows/deleted"], flow_ids=[new_id()])
    register(srv, url=url, api_key_name="X-Key", api_key_value="other", events=["flows/created"])
    mine = [h for h in hooks(srv) if h["url"] == url]
    assert len(mine) == 2
    assert mine[0]["events"] == ["flows/updated", "flows/deleted"] and "flow_ids" in mine[0]
    # events: [] removes (204), also for one that does not exist.
    register(srv, 204, url=url, api_key_name="X-Key", api_key_value="s3cret", events=[])
    register(srv, 204, url=url, api_key_name="X-Key", api_key_value="other", events=[])
    register(srv, 204, url=url, events=[])
    assert [h for h in hooks(srv) if h["url"] == url] == []


@pytest.mark.parametrize("body", [
    {"events": ["flows/created"]},
    {"url": "http://127.0.0.1:9/x"},
    {"url": "ftp://127.0.0.1/x", "events": ["flows/created"]},
    {"url": "/relative", "events": ["flows/created"]},
    {"url": 5, "events": ["flows/created"]},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/exploded"]},
    {"url": "http://127.0.0.1:9/x", "events": "flows/created"},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "flow_ids": ["nope"]},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "source_ids": "x"},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "accept_storage_ids": ["A"]},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "presigned": "yes"},
    # 8.2 filters by tags (change 9), with string or list values only.
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"],
     "tags": {"a": "b"} if API_VERSION == "7.0" else {"a": 5}},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "api_key_name": "X"},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "api_key_name": "a b",
     "api_key_value": "v"},
    {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], "api_key_name": "X",
     "api_key_value": "a\r\nInjected: 1"},
    {"url": "http://nonexistent.invalid/x", "events": ["flows/created"]},
    [],
])
def test_register_bad(srv, body):
    r = srv.post("/service/webhooks", json=body)
    check_error(r, 400)


@pytest.mark.parametrize("name,quoted", [
    ("colour", "'colour'"),
    ("x" * 5000, "'" + "x" * 64 + "...'"),
    ("a" + "\u00e9" * 2000, "'a" + "\u00e9" * 31 + "...'"),  # cut before a 2-byte letter
], ids=["short", "5000-bytes", "utf8-boundary"])
def test_register_unknown_option_is_named(srv, name, quoted):
    """An unknown option of any length is named, cut to 64 bytes on a character boundary; a
    name longer than the message buffer once left the 400 without a summary."""
    body = {"url": "http://127.0.0.1:9/x", "events": ["flows/created"], name: 1}
    doc = check_error(srv.post("/service/webhooks", json=body), 400)
    assert doc["summary"] == quoted + " is not a webhook option this server supports", doc


def test_ssrf_guard(make_server):
    srv = make_server()
    for url in ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x",
                "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
                "http://192.168.0.1/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"]:
        body = check_error(srv.post("/service/webhooks", json={"url": url,
                                                               "events": ["flows/created"]}), 400)
        assert "webhooks_allow_private" in body["summary"] or "resolve" in body["summary"], body
    # Removing needs no delivery, so it is not refused (8.2 removes by id: DELETE).
    if API_VERSION == "7.0":
        assert srv.post("/service/webhooks",
                        json={"url": "http://127.0.0.1:9/x", "events": []}).status_code == 204


# ---- events --------------------------------------------------------------------------------------

def all_events(srv, receiver, path, **extra):
    register(srv, url=receiver.url(path), api_key_name="X-Api-Key", api_key_value="k-" + path,
             events=EVENTS, **extra)


def test_every_event_type(srv, receiver):
    all_events(srv, receiver, "/all")
    src, fid = new_id(), new_id()
    make_flow(srv, fid, source_id=src)                                  # sources/created, flows/created
    assert srv.put(f"/flows/{fid}/label", json="L").status_code == 204  # flows/updated
    assert srv.put(f"/sources/{src}/label", json="S").status_code == 204  # sources/updated
    objs = allocate(srv, fid, 3)
    for o in objs:
        upload(srv, o)
    r = srv.post(f"/flows/{fid}/segments", json=[
        {"object_id": objs[i]["object_id"], "timerange": tr(i, i + 1)} for i in range(3)])
    assert r.status_code == 201, r.text                                 # one segments_added
    assert srv.delete(f"/flows/{fid}/segments?timerange=[0:0_2:0)").status_code == 204
    assert srv.delete(f"/flows/{fid}").status_code == 204              # flows/deleted, sources/deleted
    receiver.wait(8, "/all")
    time.sleep(0.5)
    got = receiver.events("/all")
    types = [e["event_type"] for e in got]
    assert types == ["sources/created", "flows/created", "flows/updated", "sources/updated",
                     "flows/segments_added", "flows/segments_deleted", "flows/deleted",
                     "sources/deleted"], types
    for e in got:
        validate_event(e)
    by = {e["event_type"]: e["event"] for e in got}
    assert by["flows/created"]["flow"]["id"] == fid
    assert by["flows/updated"]["flow"]["label"] == "L"
    assert by["sources/created"]["source"]["id"] == src
    assert by["sources/updated"]["source"]["label"] == "S"
    segs = by["flows/segments_added"]["segments"]
    assert [s["timerange"] for s in segs] == [tr(i, i + 1) for i in range(3)]
    assert all(s["get_urls"] and s["get_urls"][0]["url"].startswith("http") for s in segs)
    assert not any(k.startswith("_") for s in segs for k in s)
    assert by["flows/segments_deleted"] == {"flow_id": fid, "timerange": "[0:0_2:0)"}
    assert by["flows/deleted"] == {"flow_id": fid}
    assert by["sources/deleted"] == {"source_id": src}
    with receiver.lock:
        assert all(h.get("X-Api-Key") == "k-/all" and
                   h.get("Content-Type") == "application/json" for p, h, _ in receiver.requests)


def test_segments_deleted_runs(srv, receiver):
    """One event per run of removed segments: a kept segment splits the range."""
    fid = make_flow(srv)
    register(srv, url=receiver.url("/runs"), events=["flows/segments_deleted"], flow_ids=[fid])
    ext = [{"url": "http://media.example.com/a", "label": "ext"}]
    for i, obj in enumerate(["a", "b", "a", "a", "b"]):
        assert srv.post(f"/flows/{fid}/segments", json={
            "object_id": f"{fid}-{obj}", "timerange": tr(i, i + 1), "get_urls": ext}
        ).status_code == 201
    assert srv.delete(f"/flows/{fid}/segments?object_id={fid}-a").status_code == 204
    got = receiver.wait(2, "/runs")
    time.sleep(0.3)
    assert [e["event"]["timerange"] for e in receiver.events("/runs")] == [
        "[0:0_1:0)", "[2:0_4:0)"]


def test_bulk_post_is_one_event(srv, receiver):
    fid = make_flow(srv)
    register(srv, url=receiver.url("/bulk"), events=EVENTS, flow_ids=[fid],
             accept_get_urls=[])
    body = [{"object_id": f"{fid}-o{i}", "timerange": tr(i, i + 1), "get_urls": EXT}
            for i in range(1000)]
    assert srv.post(f"/flows/{fid}/segments", json=body).status_code == 201
    got = receiver.wait(1, "/bulk")
    time.sleep(1)
    got = receiver.events("/bulk")
    assert [e["event_type"] for e in got] == ["flows/segments_added"]
    assert len(got[0]["event"]["segments"]) == 1000
    assert all("get_urls" not in s for s in got[0]["event"]["segments"])  # accept_get_urls: []


def test_get_urls_transforms(srv, receiver):
    fid = make_flow(srv)
    register(srv, url=receiver.url("/labels"), events=["flows/segments_added"], flow_ids=[fid],
             accept_get_urls=["ext"], verbose_storage=True)
    obj = allocate(srv, fid)[0]
    upload(srv, obj)
    assert srv.post(f"/flows/{fid}/segments", json=[
        {"object_id": obj["object_id"], "timerange": tr(0, 1)},
        {"object_id": f"{fid}-x", "timerange": tr(1, 2), "get_urls": EXT}]).status_code == 201
    segs = receiver.wait(1, "/labels")[0]["event"]["segments"]
    assert "get_urls" not in segs[0]  # the controlled URL's label is not "ext"
    assert segs[1]["get_urls"] == [{"url": EXT[0]["url"], "label": "ext", "controlled": False}]


def test_filters(srv, receiver):
    src = new_id()
    coll = make_flow(srv, source_id=new_id())
    f1 = make_flow(srv, source_id=src)
    f2 = make_flow(srv)
    assert srv.put(f"/flows/{coll}/flow_collection",
                   json=[{"id": f1, "role": "v"}]).status_code == 204
    register(srv, url=receiver.url("/byflow"), events=["flows/updated"], flow_ids=[f2])
    register(srv, url=receiver.url("/bycoll"), events=["flows/updated"],
             flow_ids=[coll], flow_collected_by_ids=[coll])
    register(srv, url=receiver.url("/bysource"), events=["flows/updated", "sources/updated"],
             source_ids=[src])
    for f in (coll, f1, f2):
        assert srv.put(f"/flows/{f}/description", json="d").status_code == 204
    assert srv.put(f"/sources/{src}/label", json="x").status_code == 204
    receiver.wait(1, "/byflow")
    receiver.wait(2, "/bycoll")
    receiver.wait(2, "/bysource")
    time.sleep(0.5)
    assert [e["event"]["flow"]["id"] for e in receiver.events("/byflow")] == [f2]
    assert [e["event"]["flow"]["id"] for e in receiver.events("/bycoll")] == [coll, f1]
    assert [e["event_type"] for e in receiver.events("/bysource")] == [
        "flows/updated", "sources/updated"]


def test_metrics(srv, receiver):
    text = srv.get("/metrics").text
    for name in ("tams_webhook_deliveries_total", "tams_webhook_failed_attempts_total",
                 "tams_webhook_given_up_total", "tams_webhook_queue_depth"):
        assert name in text


def test_give_up(make_server, receiver):
    srv = make_server(args=ALLOW + ["--webhook-retry-for", "1"])
    register(srv, url=receiver.url("/down"), events=["flows/created"])
    receiver.status = 500
    f1 = make_flow(srv)
    time.sleep(2.5)
    receiver.status = 200
    f2 = make_flow(srv)
    got = receiver.wait(1, "/down")
    assert [e["event"]["flow"]["id"] for e in got] == [f2]
    text = srv.get("/metrics").text
    assert "tams_webhook_given_up_total 1" in text, text
    assert f1


def test_restart_loses_nothing(tmp_path):
    """Receiver away, changes made, tamsd restarted, receiver back: every event exactly once,
    in order."""
    port = free_port()
    srv = Server(tmp_path, args=ALLOW)
    srv.start()
    rec = Receiver(port)
    register(srv, url=rec.url("/r"), api_key_name="K", api_key_value="v", events=EVENTS)
    rec.status = 503
    fids = [make_flow(srv) for _ in range(5)]
    for f in fids:
        assert srv.put(f"/flows/{f}/label", json="x").status_code == 204
    time.sleep(1)
    assert rec.events() == []
    rec.close()  # port closed as well
    srv.stop()
    if ON_PG:  # a stopped instance leaves no lease for the next to wait out (40 s here)
        assert db_scalar(srv.data_dir, "SELECT count(*) FROM webhooks WHERE lease_until > now()"
                         " AND lease_owner IS NOT NULL") == 0
    srv.start()
    for f in fids:
        assert srv.delete(f"/flows/{f}").status_code == 204
    rec = Receiver(port)
    try:
        expected = []
        for f in fids:
            expected += [("sources/created", None), ("flows/created", f)]
        expected += [("flows/updated", f) for f in fids]
        for f in fids:
            expected += [("flows/deleted", f), ("sources/deleted", None)]
        got = rec.wait(len(expected), "/r", timeout=30)
        time.sleep(1)
        got = rec.events("/r")
        assert len(got) == len(expected)
        for (etype, fid), e in zip(expected, got):
            assert e["event_type"] == etype
            if fid and etype != "flows/deleted":
                assert e["event"]["flow"]["id"] == fid
            if etype == "flows/deleted":
                assert e["event"]["flow_id"] == fid
        assert all(h.get("K") == "v" for _, h, _ in rec.requests)
        assert "tams_webhook_queue_depth 0" in srv.get("/metrics").text
    finally:
        rec.close()
        srv.stop()
