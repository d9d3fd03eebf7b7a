# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2 webhooks (docs/tams-8.2-changes.md 6-9): ids and /service/webhooks/{webhookId},
status and error, paging and tag filters, the 8.2 options, and how 7.0 sees (and re-registers)
the same webhooks. Every 8.2 answer is validated against the 8.2 schemas, every 7.0 one against
7.0's."""
import copy
import re
import time
import urllib.parse
import uuid

import jsonschema
import pytest
import yaml

from conftest import SCHEMA_DIRS, SPEC, SPEC82, check_error, validate
from test_deletion import allocate, make_flow, new_id, tr, upload
from test_webhooks import ALLOW, EVENTS, Receiver

UUID_RE = r"^[0-9a-f]{8}-"


@pytest.fixture
def srv(make_server):
    return make_server(args=ALLOW)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def post82(v82, code=201, **body):
    r = v82.post("/service/webhooks", json=body)
    if code >= 400:
        check_error(r, code)
        validate(r.json(), "error.json", version="8.2")
        return r
    assert r.status_code == code, (r.status_code, r.text)
    v82.validate(r.json(), "webhook-get.json")
    return r.json()


def list82(v82, **params):
    r = v82.get("/service/webhooks", params=params)
    assert r.status_code == 200, r.text
    for w in r.json():
        v82.validate(w, "webhook-get.json")
    return r


def list70(v70):
    r = v70.get("/service/webhooks")
    assert r.status_code == 200, r.text
    for w in r.json():
        v70.validate(w, "webhook.json")
        assert not {"id", "status", "error", "tags", "include_object_timerange"} & set(w), w
    return r.json()


def wait_status(v82, wid, status, timeout=15):
    deadline = time.time() + timeout
    while True:
        w = v82.get(f"/service/webhooks/{wid}").json()
        if w["status"] == status:
            v82.validate(w, "webhook-get.json")
            return w
        assert time.time() < deadline, w
        time.sleep(0.05)


# ---- 6: ids and the per-id resource ------------------------------------------------------------

def test_crud(srv, receiver):
    v82 = srv.at("8.2")
    body = {"url": receiver.url(), "events": ["flows/created"], "api_key_name": "X-Key",
            "api_key_value": "secret", "tags": {"team": "news", "sites": ["a", "b"]},
            "include_object_timerange": True}
    w = post82(v82, **body)
    assert uuid.UUID(w["id"]) and w["status"] == "created"
    assert "api_key_value" not in w and w["tags"] == body["tags"]
    assert w["include_object_timerange"] is True and w["api_key_name"] == "X-Key"
    wid = w["id"]
    r = v82.get(f"/service/webhooks/{wid}")
    assert r.status_code == 200
    v82.validate(r.json(), "webhook-get.json")
    assert r.json()["id"] == wid and "api_key_value" not in r.json()
    assert v82.head(f"/service/webhooks/{wid}").status_code == 200
    # PUT replaces; the key is kept when its name alone is given (GET never shows the value)
    put = {"id": wid, "url": receiver.url("/other"), "events": ["flows/created", "flows/deleted"],
           "api_key_name": "X-Key", "status": "created"}
    r = v82.put(f"/service/webhooks/{wid}", json=put)
    assert r.status_code == 201, r.text
    v82.validate(r.json(), "webhook-get.json")
    assert r.json()["url"] == receiver.url("/other") and "tags" not in r.json()
    make_flow(srv)
    got = receiver.wait(1, "/other")
    assert got[0]["event_type"] == "flows/created"
    hdrs = [h for p, h, _ in receiver.requests if p == "/other"]
    assert hdrs[0]["X-Key"] == "secret"
    # DELETE
    assert v82.delete(f"/service/webhooks/{wid}").status_code == 204
    for m in ("get", "delete"):
        check_error(getattr(v82, m)(f"/service/webhooks/{wid}"), 404)
    check_error(v82.put(f"/service/webhooks/{wid}", json=put), 404)
    assert list82(v82).json() == []


def test_refusals(srv, receiver):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    wid = post82(v82, url=receiver.url(), events=["flows/created"])["id"]
    check_error(v82.get("/service/webhooks/not-a-uuid"), 404)
    check_error(v82.get(f"/service/webhooks/{uuid.uuid4()}"), 404)
    ok = {"id": wid, "url": receiver.url(), "events": ["flows/created"], "status": "created"}
    for bad in ({**ok, "id": str(uuid.uuid4())},                # not the path's
                {k: v for k, v in ok.items() if k != "status"},  # status required
                {k: v for k, v in ok.items() if k != "id"},      # id required
                {**ok, "status": "started"},                    # only created/disabled
                {**ok, "events": ["flows/nope"]},               # the 8.2 enum
                {**ok, "api_key_name": "K"},                    # no stored key to keep
                {**ok, "tags": {"a": 1}}):
        check_error(v82.put(f"/service/webhooks/{wid}", json=bad), 400)
    post82(v82, 400, url=receiver.url(), events=["flows/created"], status="error")
    post82(v82, 400, url=receiver.url(), events=["nope"])
    # the per-id routes are 8.2's only; 7.0 still refuses 8.2's members
    for path in (f"/service/webhooks/{wid}",):
        assert v70.get(path).status_code == 404
        assert srv.get(path).status_code == 404
    check_error(v70.post("/service/webhooks", json={"url": receiver.url(), "events": [],
                                                    "tags": {}}), 400)
    # nothing changed
    w = v82.get(f"/service/webhooks/{wid}").json()
    assert w["url"] == receiver.url() and w["events"] == ["flows/created"]


def test_seen_by_both_and_70_repost_keeps_82(srv, receiver):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    w = post82(v82, url=receiver.url(), events=["flows/created"], tags={"t": ["x", "y"]},
               include_object_timerange=True, status="disabled")
    seen = list70(v70)
    assert seen == [{"url": receiver.url(), "events": ["flows/created"]}]
    assert srv.get("/service/webhooks").json() == seen  # the root is 7.0
    # a 7.0 re-POST of that url updates the fields 7.0 names and keeps the rest (R2)
    r = v70.post("/service/webhooks", json={"url": receiver.url(),
                                            "events": ["flows/created", "flows/updated"]})
    assert r.status_code == 201 and r.content == b""
    got = v82.get(f"/service/webhooks/{w['id']}").json()
    v82.validate(got, "webhook-get.json")
    assert got["events"] == ["flows/created", "flows/updated"]
    assert got["tags"] == {"t": ["x", "y"]} and got["include_object_timerange"] is True
    assert got["status"] == "disabled" and got["id"] == w["id"]
    assert len(list82(v82).json()) == 1
    # a webhook made under 7.0 has an id under 8.2; 7.0's empty events still remove (204)
    v70.post("/service/webhooks", json={"url": receiver.url("/b"), "events": ["flows/created"]})
    ws = list82(v82).json()
    assert [x["url"] for x in ws] == sorted([receiver.url(), receiver.url("/b")])  # by url
    assert all(x["status"] in ("created", "started") or x["id"] == w["id"] for x in ws)
    r = v70.post("/service/webhooks", json={"url": receiver.url("/b"), "events": []})
    assert r.status_code == 204
    assert [x["url"] for x in list82(v82).json()] == [receiver.url()]
    # under 8.2, empty events are a webhook without events, not a removal
    e = post82(v82, url=receiver.url("/c"), events=[])
    assert e["events"] == [] and len(list82(v82).json()) == 2


def test_82_repost_same_identity_updates(srv, receiver):
    v82 = srv.at("8.2")
    a = post82(v82, url=receiver.url(), events=["flows/created"], tags={"k": "v"})
    b = post82(v82, url=receiver.url(), events=["flows/deleted"])
    assert a["id"] == b["id"] and "tags" not in b and b["events"] == ["flows/deleted"]


def test_ownership(tmp_path, receiver):
    """Issue 14's rules under 8.2: another principal's webhook is not shown (404) and may not
    be changed (403); read and write are needed; an admin sees and changes every one."""
    from test_auth import add_token
    from test_webhook_security import bearer, start

    srv, toks = start(tmp_path, lambda d: {n: add_token(d, n, s) for n, s in
                                           (("alice", "read,write,delete"), ("bob", "read,write,delete"),
                                            ("w", "write"), ("admin", "admin"))})
    try:
        v82 = srv.at("8.2")
        hook = {"url": receiver.url(), "events": ["flows/created"]}
        r = v82.post("/service/webhooks", json=hook, **bearer(toks["alice"]))
        assert r.status_code == 201, r.text
        wid = r.json()["id"]
        check_error(v82.post("/service/webhooks", json=dict(hook, url=receiver.url("/w")),
                             **bearer(toks["w"])), 403)
        put = dict(hook, id=wid, status="disabled")
        check_error(v82.get(f"/service/webhooks/{wid}", **bearer(toks["bob"])), 404)
        check_error(v82.put(f"/service/webhooks/{wid}", json=put, **bearer(toks["bob"])), 403)
        check_error(v82.delete(f"/service/webhooks/{wid}", **bearer(toks["bob"])), 403)
        check_error(v82.put(f"/service/webhooks/{wid}", json=put, **bearer(toks["w"])), 403)
        assert v82.get("/service/webhooks", **bearer(toks["bob"])).json() == []
        assert v82.get(f"/service/webhooks/{wid}",
                       **bearer(toks["alice"])).json()["status"] != "disabled"
        r = v82.put(f"/service/webhooks/{wid}", json=put, **bearer(toks["admin"]))
        assert r.status_code == 201 and r.json()["status"] == "disabled"
        # the admin's change left alice the owner (DELETE needs the delete scope, as ever)
        assert v82.get(f"/service/webhooks/{wid}", **bearer(toks["alice"])).status_code == 200
        assert v82.delete(f"/service/webhooks/{wid}", **bearer(toks["alice"])).status_code == 204
    finally:
        srv.stop()


# ---- 7: status and error -----------------------------------------------------------------------

def test_disabled_gets_nothing_and_restarts_at_now(srv, receiver):
    v82 = srv.at("8.2")
    w = post82(v82, url=receiver.url(), events=["flows/created"])
    wait_status(v82, w["id"], "started")
    f1 = make_flow(srv)
    receiver.wait(1)
    put = {"id": w["id"], "url": receiver.url(), "events": ["flows/created"]}
    r = v82.put(f"/service/webhooks/{w['id']}", json=dict(put, status="disabled"))
    assert r.status_code == 201 and r.json()["status"] == "disabled"
    make_flow(srv)
    time.sleep(1)
    assert len(receiver.events()) == 1
    # 7.0 still lists it (it has no status to show)
    assert [x["url"] for x in list70(srv.at("7.0"))] == [receiver.url()]
    r = v82.put(f"/service/webhooks/{w['id']}", json=dict(put, status="created"))
    assert r.status_code == 201
    wait_status(v82, w["id"], "started")
    f3 = make_flow(srv)
    got = receiver.wait(2)
    time.sleep(0.5)
    assert [e["event"]["flow"]["id"] for e in receiver.events()] == [f1, f3]
    # registered disabled: nothing at all
    post82(v82, url=receiver.url("/d"), events=["flows/created"], status="disabled")
    make_flow(srv)
    time.sleep(1)
    assert receiver.events("/d") == [] and len(got) == 2


def test_failing_receiver_goes_to_error(make_server, receiver):
    srv = make_server(args=ALLOW + ["--webhook-retry-for", "0", "--webhook-error-after", "2"])
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    w = post82(v82, url=receiver.url(), events=["flows/created"])
    wid = w["id"]
    wait_status(v82, wid, "started")
    receiver.status = 500
    make_flow(srv)
    time.sleep(0.5)
    assert v82.get(f"/service/webhooks/{wid}").json()["status"] == "started"  # one given up
    make_flow(srv)
    err = wait_status(v82, wid, "error")
    assert err["error"]["type"] == "WebhookDeliveryFailed"
    assert "500" in err["error"]["summary"], err
    validate(err["error"], "error.json", version="8.2")
    # no more deliveries in error, even once the receiver is back
    receiver.status = 200
    make_flow(srv)
    time.sleep(1)
    assert receiver.events() == []
    assert "error" not in list70(v70)[0]
    put = {"id": wid, "url": receiver.url(), "events": ["flows/created"]}
    check_error(v82.put(f"/service/webhooks/{wid}", json=dict(put, status="disabled")), 400)
    r = v82.put(f"/service/webhooks/{wid}", json=dict(put, status="created"))
    assert r.status_code == 201 and "error" not in r.json()
    wait_status(v82, wid, "started")
    f = make_flow(srv)
    assert [e["event"]["flow"]["id"] for e in receiver.wait(1)] == [f]


def test_70_reregistration_restarts_error(make_server, receiver):
    srv = make_server(args=ALLOW + ["--webhook-retry-for", "0", "--webhook-error-after", "1"])
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    r = v70.post("/service/webhooks", json={"url": receiver.url(), "events": ["flows/created"]})
    assert r.status_code == 201
    wid = list82(v82).json()[0]["id"]
    receiver.status = 503
    make_flow(srv)
    wait_status(v82, wid, "error")
    receiver.status = 200
    r = v70.post("/service/webhooks", json={"url": receiver.url(), "events": ["flows/created"]})
    assert r.status_code == 201
    wait_status(v82, wid, "started")
    f = make_flow(srv)
    assert [e["event"]["flow"]["id"] for e in receiver.wait(1)] == [f]


# ---- 8: paging, order and tag filters ----------------------------------------------------------

LINK_RE = re.compile(r'^<([^>]+)>; rel="next"$')


def walk(v82, **params):
    """Every page of the 8.2 listing, following Link; returns the urls and the pages' sizes."""
    r = list82(v82, **params)
    urls, sizes = [], []
    while True:
        assert r.headers["X-Paging-Count"] == str(len(r.json()))
        urls += [w["url"] for w in r.json()]
        sizes.append(len(r.json()))
        if "Link" not in r.headers:
            assert "X-Paging-NextKey" not in r.headers
            return urls, sizes
        link = LINK_RE.match(r.headers["Link"]).group(1)
        assert link.startswith(v82.api + "/service/webhooks?"), link
        assert r.headers["X-Paging-NextKey"] in urllib.parse.unquote(link)
        r = v82.session.get(link, timeout=30)
        assert r.status_code == 200, r.text
        for w in r.json():
            v82.validate(w, "webhook-get.json")


def test_paging_order_and_tags(srv, receiver):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    tags = {"/e": {"site": "a"}, "/b": {"site": ["a", "b"]}, "/d": {"site": "c", "x": ""},
            "/a": {}, "/c": {"other": "a"}}
    for path, t in tags.items():  # registered out of url order
        body = {"url": receiver.url(path), "events": ["flows/created"]}
        if t:
            body["tags"] = t
        post82(v82, **body)
    paths = lambda urls: [u.rsplit("/", 1)[1] for u in urls]
    urls, sizes = walk(v82, limit=2)
    assert paths(urls) == list("abcde") and sizes == [2, 2, 1]
    assert list82(v82, limit=2).headers["X-Paging-Limit"] == "2"
    urls, sizes = walk(v82, limit=2, reverse_order="true")
    assert paths(urls) == list("edcba") and sizes == [2, 2, 1]
    assert list82(v82, reverse_order="true").headers["X-Paging-Reverse-Order"] == "true"
    assert paths(walk(v82, **{"tag.site": "a"})[0]) == ["b", "e"]
    assert paths(walk(v82, **{"tag.site": "b,c"})[0]) == ["b", "d"]
    assert paths(walk(v82, **{"tag.site": "a", "limit": 1})[0]) == ["b", "e"]
    assert paths(walk(v82, **{"tag_exists.site": "true"})[0]) == ["b", "d", "e"]
    assert paths(walk(v82, **{"tag_exists.site": "false"})[0]) == ["a", "c"]
    assert paths(walk(v82, **{"tag.x": ""})[0]) == ["d"]
    assert paths(walk(v82, **{"tag.site": "ab"})[0]) == []  # whole values only
    # refusals
    for params in ({"page": "nonsense"}, {"limit": "0"}, {"reverse_order": "maybe"},
                   {"tag_exists.site": "yes"}, {"label": "x"}):
        check_error(v82.get("/service/webhooks", params=params), 400)
    # 7.0: every one, unpaged, in registration order, no paging headers
    r = v70.get("/service/webhooks", params={})
    assert [u.rsplit("/", 1)[1] for u in (w["url"] for w in list70(v70))] == list("ebdac")
    assert "Link" not in r.headers and "X-Paging-Limit" not in r.headers


# ---- 9 and the event bodies per version --------------------------------------------------------

def event_validator(version):
    """Validates a webhook body against the `webhooks` section of version's YAML."""
    spec = {"7.0": SPEC, "8.2": SPEC82}[version]
    doc = yaml.safe_load((spec / "TimeAddressableMediaStore.yaml").read_text())
    schemas = SCHEMA_DIRS[version]

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                return inline(doc["components"]["schemas"][ref.rsplit("/", 1)[1]])
            if ref.startswith("schemas/"):
                return {"$ref": ref[len("schemas/"):]}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    def check(body):
        schema = inline(copy.deepcopy(doc["webhooks"][body["event_type"]]["post"]["requestBody"]
                                      ["content"]["application/json"]["schema"]))
        if version == "7.0" and body["event_type"] == "flows/segments_deleted":
            schema["properties"]["event_type"]["const"] = "flows/segments_deleted"  # 7.0 typo
        resolver = jsonschema.RefResolver(base_uri=schemas.as_uri() + "/", referrer=schema)
        jsonschema.Draft202012Validator(schema, resolver=resolver,
                                        format_checker=jsonschema.FormatChecker()).validate(body)
    return check


def test_events_per_version_and_prefix(srv, receiver):
    """One change seen by a webhook registered under 8.2, one under /tams/v7.0 and one at the
    root: each body valid against its version's event schema, get_urls of the built-in store
    made under the prefix each was registered under."""
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    post82(v82, url=receiver.url("/82"), events=EVENTS, include_object_timerange=True)
    r = v70.post("/service/webhooks", json={"url": receiver.url("/70"), "events": EVENTS})
    assert r.status_code == 201, r.text
    # at the root itself, whatever TAMS_TEST_BASE_PATH says
    r = srv.session.post(srv.url + "/service/webhooks", timeout=30,
                         json={"url": receiver.url("/root"), "events": EVENTS})
    assert r.status_code == 201, r.text
    src, fid = new_id(), new_id()
    # a frame_rate: 8.2 requires one of a video flow (its view of a flow without is change 14's)
    make_flow(srv, fid, source_id=src, essence_parameters={
        "frame_width": 1920, "frame_height": 1080, "frame_rate": {"numerator": 25}})
    assert srv.put(f"/flows/{fid}/label", json="L").status_code == 204
    objs = allocate(srv, fid, 2)
    for o in objs:
        upload(srv, o)
    r = srv.post(f"/flows/{fid}/segments", json=[
        {"object_id": objs[i]["object_id"], "timerange": tr(i, i + 1)} for i in range(2)])
    assert r.status_code == 201, r.text
    assert srv.delete(f"/flows/{fid}/segments?timerange=[0:0_1:0)").status_code == 204
    assert srv.delete(f"/flows/{fid}").status_code == 204
    checks = {"/82": event_validator("8.2"), "/70": event_validator("7.0"),
              "/root": event_validator("7.0")}
    prefixes = {"/82": "/tams/v8.2", "/70": "/tams/v7.0", "/root": ""}
    for path, check in checks.items():
        got = receiver.wait(7, path)
        assert [e["event_type"] for e in got] == [
            "sources/created", "flows/created", "flows/updated", "flows/segments_added",
            "flows/segments_deleted", "flows/deleted", "sources/deleted"], path
        for e in got:
            check(e)
        segs = [e for e in got if e["event_type"] == "flows/segments_added"][0]["event"]["segments"]
        for i, s in enumerate(segs):
            assert s["get_urls"], s
            # asked for by the 8.2 webhook only: the whole object, as no ts_offset was given
            if path == "/82":
                assert s["object_timerange"] == tr(i, i + 1), s
            else:
                assert "object_timerange" not in s, (path, s)
            for u in s["get_urls"]:
                assert u["url"].startswith(srv.url + prefixes[path] + "/_objects/"), (path, u)
                assert srv.session.get(u["url"], timeout=30).content == b"media"


def test_82_options(srv, receiver):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    w = post82(v82, url=receiver.url("/n"), events=["flows/segments_added"], accept_get_urls=[],
               presigned=False, verbose_storage=True, include_object_timerange=False,
               accept_storage_ids=[str(uuid.uuid4())])
    for k in ("accept_get_urls", "presigned", "verbose_storage", "include_object_timerange",
              "accept_storage_ids"):
        assert k in w, k
    assert "include_object_timerange" not in list70(v70)[0]
    # 8.2: an empty flow_collected_by_ids keeps the flows nothing collects; under 7.0 it kept
    # nothing, and a webhook registered under 7.0 keeps that rule
    post82(v82, url=receiver.url("/u82"), events=["flows/created", "flows/updated"],
           flow_collected_by_ids=[])
    r = v70.post("/service/webhooks", json={"url": receiver.url("/u70"),
                                            "events": ["flows/created"],
                                            "flow_collected_by_ids": []})
    assert r.status_code == 201
    fid = make_flow(srv)                                  # not collected: /u82 gets it
    coll = make_flow(srv, flow_collection=[{"id": fid, "role": "member"}])
    assert srv.put(f"/flows/{fid}/label", json="now collected").status_code == 204
    receiver.wait(2, "/u82")
    time.sleep(1)
    got = [(e["event_type"], e["event"]["flow"]["id"]) for e in receiver.events("/u82")]
    assert got == [("flows/created", fid), ("flows/created", coll)], got
    assert receiver.events("/u70") == []
    # the segments: no get_urls at all (accept_get_urls: [])
    objs = allocate(srv, fid, 1)
    upload(srv, objs[0])
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": objs[0]["object_id"],
                                                    "timerange": tr(0, 1)}).status_code == 201
    seg = receiver.wait(1, "/n")[0]
    event_validator("8.2")(seg)
    assert all("get_urls" not in s for s in seg["event"]["segments"])


def test_flow_events_in_each_version_view(srv, receiver):
    """The store keeps 8.2's flow; a 7.0 webhook is sent the 7.0 view of it (list tags as their
    first value, no vfr), an 8.2 webhook the 8.2 document (docs/tams-8.2-changes.md, 9)."""
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    events = ["flows/created", "flows/updated"]
    post82(v82, url=receiver.url("/82"), events=events)
    r = v70.post("/service/webhooks", json={"url": receiver.url("/70"), "events": events})
    assert r.status_code == 201, r.text
    fid = new_id()
    doc = {"id": fid, "source_id": new_id(), "format": "urn:x-nmos:format:video",
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
    assert v70.put(f"/flows/{fid}", json=doc).status_code == 201  # 7.0: no frame_rate, vfr
    assert v82.put(f"/flows/{fid}/tags/crew", json=["alice", "bob"]).status_code == 204
    check82, check70 = event_validator("8.2"), event_validator("7.0")
    got82, got70 = receiver.wait(2, "/82"), receiver.wait(2, "/70")
    for e in got82:
        check82(e)
        assert e["event"]["flow"]["essence_parameters"]["vfr"] is True
    for e in got70:
        check70(e)
        assert "vfr" not in e["event"]["flow"]["essence_parameters"]
    assert got82[1]["event"]["flow"]["tags"]["crew"] == ["alice", "bob"]
    assert got70[1]["event"]["flow"]["tags"]["crew"] == "alice"


def test_segments_added_carry_the_init_object(srv, receiver):
    """flows/segments_added to an 8.2 webhook: each segment with its init_object (id and
    get_urls, made under the webhook's prefix) as GET .../segments shows it, an inherited one
    too; a 7.0 webhook's body is unchanged (change 22)."""
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    post82(v82, url=receiver.url("/82"), events=["flows/segments_added"])
    r = v70.post("/service/webhooks", json={"url": receiver.url("/70"),
                                            "events": ["flows/segments_added"]})
    assert r.status_code == 201, r.text
    fid = make_flow(v82, container="video/mp4", essence_parameters={
        "frame_width": 1920, "frame_height": 1080, "frame_rate": {"numerator": 25}})
    init, a, b = allocate(v82, fid, 3)
    upload(v82, init, b"init bytes")
    upload(v82, a)
    upload(v82, b)
    r = v82.post(f"/flows/{fid}/segments", json=[
        {"object_id": a["object_id"], "timerange": tr(0, 1), "init_object_id": init["object_id"]},
        {"object_id": b["object_id"], "timerange": tr(1, 2)}])
    assert r.status_code == 201, r.text
    # a reuse without init_object_id inherits the object's init
    r = v82.post(f"/flows/{fid}/segments", json={"object_id": a["object_id"],
                                                  "timerange": tr(5, 6), "ts_offset": "5:0"})
    assert r.status_code == 201, r.text
    got82, got70 = receiver.wait(2, "/82"), receiver.wait(2, "/70")
    check82, check70 = event_validator("8.2"), event_validator("7.0")
    listed = v82.get(f"/flows/{fid}/segments").json()
    sent82 = [s for e in got82 for s in e["event"]["segments"]]
    for e in got82:
        check82(e)
    assert [s.get("init_object", {}).get("object_id") for s in sent82] == [
        init["object_id"], None, init["object_id"]]
    def unsigned(init):  # the signatures differ by their expiry time
        return init and {"object_id": init["object_id"],
                         "get_urls": [dict(u, url=u["url"].split("?")[0])
                                      for u in init["get_urls"]]}
    for s, shown in zip(sent82, listed):
        assert unsigned(s.get("init_object")) == unsigned(shown.get("init_object")), (s, shown)
    for u in sent82[0]["init_object"]["get_urls"]:
        assert u["url"].startswith(srv.url + "/tams/v8.2/_objects/"), u
        assert srv.session.get(u["url"], timeout=30).content == b"init bytes"
    for e in got70:
        check70(e)
        assert all("init_object" not in s and "init_object_id" not in s
                   for s in e["event"]["segments"]), e
    assert [s["object_id"] for e in got70 for s in e["event"]["segments"]] == [
        s["object_id"] for s in sent82]
