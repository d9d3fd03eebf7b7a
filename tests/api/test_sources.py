# SPDX-License-Identifier: Apache-2.0
"""Sources: implicit lifecycle, properties, derived collections and listing filters."""
import time
import urllib.parse
import uuid

from conftest import VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
DATA = "urn:x-nmos:format:data"
MULTI = "urn:x-nmos:format:multi"
PAGING_HEADERS = ("Link", "X-Paging-Limit", "X-Paging-NextKey")


def new_id():
    return str(uuid.uuid4())


def flow(fmt, fid=None, source_id=None, **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": fmt}
    if fmt == VIDEO:
        doc.update(codec="video/h264",
                   essence_parameters={"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE})
    elif fmt == AUDIO:
        doc.update(codec="audio/aac", essence_parameters={"sample_rate": 48000, "channels": 2})
    elif fmt == DATA:
        doc.update(codec="application/json", essence_parameters={})
    doc.update(extra)
    return doc


def put_flow(srv, doc, status=201):
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == status, (r.status_code, r.text)
    return doc


def get_twin(srv, path, **kw):
    g = srv.get(path, **kw)
    h = srv.head(path, **kw)
    assert h.status_code == g.status_code, (path, h.status_code, g.status_code)
    assert h.content == b"", path
    for name in ("Content-Type", "Content-Length") + PAGING_HEADERS:
        assert h.headers.get(name) == g.headers.get(name), (path, name)
    return g


def get_source(srv, sid):
    r = get_twin(srv, f"/sources/{sid}")
    assert r.status_code == 200, r.text
    body = r.json()
    validate(body, "source.json")
    return body


def get_flow(srv, fid):
    r = get_twin(srv, f"/flows/{fid}")
    assert r.status_code == 200, r.text
    validate(r.json(), "flow.json")
    return r.json()


def source_404(srv, sid, sub=""):
    check_error(srv.get(f"/sources/{sid}{sub}"), 404)
    h = srv.head(f"/sources/{sid}{sub}")
    assert h.status_code == 404 and h.content == b""


def list_sources(srv, query=""):
    r = get_twin(srv, "/sources" + query)
    assert r.status_code == 200, (query, r.text)
    for s in r.json():
        validate(s, "source.json")
    return r.json()


def test_source_created_with_first_flow_and_removed_with_last(server):
    sid = new_id()
    source_404(server, sid)
    a = put_flow(server, flow(VIDEO, source_id=sid, label="flow label", tags={"t": "v"}))
    src = get_source(server, sid)
    assert src["id"] == sid and src["format"] == VIDEO
    assert src["created"] and src["updated"]
    assert list_sources(server) == [src]
    b = put_flow(server, flow(VIDEO, source_id=sid))
    assert get_source(server, sid)["created"] == src["created"]
    assert server.delete(f"/flows/{a['id']}").status_code == 204
    assert get_source(server, sid)["id"] == sid
    assert server.delete(f"/flows/{b['id']}").status_code == 204
    source_404(server, sid)
    assert list_sources(server) == []


def test_source_follows_a_changed_source_id(server):
    s1, s2 = new_id(), new_id()
    f = put_flow(server, flow(VIDEO, source_id=s1))
    other = put_flow(server, flow(AUDIO, source_id=s2))
    # Moving the only flow of s1 to a new source removes s1 and creates s3.
    s3 = new_id()
    put_flow(server, dict(f, source_id=s3), 204)
    source_404(server, s1)
    assert get_source(server, s3)["format"] == VIDEO
    # Moving it onto an existing source of another format is a conflict; nothing changes.
    body = check_error(server.put(f"/flows/{f['id']}", json=dict(f, source_id=s2)), 400)
    assert "format" in body["summary"]
    assert get_flow(server, f["id"])["source_id"] == s3
    assert get_source(server, s3)["format"] == VIDEO
    # Moving it onto an existing source of the same format keeps that source.
    g = put_flow(server, flow(VIDEO))
    put_flow(server, dict(f, source_id=g["source_id"]), 204)
    source_404(server, s3)
    assert get_source(server, g["source_id"])["format"] == VIDEO
    assert sorted(s["id"] for s in list_sources(server)) == sorted([s2, g["source_id"]])
    assert other


def test_source_properties(server):
    sid = new_id()
    put_flow(server, flow(VIDEO, source_id=sid))
    src = get_source(server, sid)
    assert "label" not in src and "description" not in src and src.get("tags", {}) == {}
    assert get_twin(server, f"/sources/{sid}/tags").json() == {}
    source_404(server, sid, "/label")
    source_404(server, sid, "/description")
    source_404(server, sid, "/tags/none")
    last = src["updated"]
    for prop, value in (("label", "Camera \u2603"), ("description", "line1\nline2 \"q\"")):
        time.sleep(0.002)
        r = server.put(f"/sources/{sid}/{prop}", json=value)
        assert r.status_code == 204 and r.content == b"", r.text
        g = get_twin(server, f"/sources/{sid}/{prop}")
        assert g.status_code == 200 and g.json() == value
        src = get_source(server, sid)
        assert src[prop] == value and src["updated"] > last
        last = src["updated"]
        for raw in (b"bare", b"5", b"null", b"true", b"[]", b'{"a":"b"}'):
            r = server.put(f"/sources/{sid}/{prop}", data=raw,
                           headers={"Content-Type": "application/json"})
            check_error(r, 400)
        assert get_source(server, sid) == src
    names = ["plain", "a.b", "with space", "x/y", "\u00fcml\u00e4ut", "50%"]
    for name in names:
        enc = urllib.parse.quote(name, safe="")
        time.sleep(0.002)
        assert server.put(f"/sources/{sid}/tags/{enc}", json="v-" + name).status_code == 204
        g = get_twin(server, f"/sources/{sid}/tags/{enc}")
        assert g.status_code == 200 and g.json() == "v-" + name
        src = get_source(server, sid)
        assert src["updated"] > last
        last = src["updated"]
    assert get_twin(server, f"/sources/{sid}/tags").json() == {n: "v-" + n for n in names}
    assert src["tags"] == {n: "v-" + n for n in names}
    check_error(server.put(f"/sources/{sid}/tags/x", data=b"v",
                           headers={"Content-Type": "application/json"}), 400)
    check_error(server.put(f"/sources/{sid}/tags/x", json=1), 400)
    source_404(server, sid, "/tags/x")
    for name in names:
        enc = urllib.parse.quote(name, safe="")
        assert server.delete(f"/sources/{sid}/tags/{enc}").status_code == 204
        source_404(server, sid, f"/tags/{enc}")
        check_error(server.delete(f"/sources/{sid}/tags/{enc}"), 404)
    for prop in ("label", "description"):
        assert server.delete(f"/sources/{sid}/{prop}").status_code == 204
        source_404(server, sid, f"/{prop}")
        assert server.delete(f"/sources/{sid}/{prop}").status_code == 204
    src = get_source(server, sid)
    assert "label" not in src and "description" not in src and src.get("tags", {}) == {}


def test_source_writes_are_not_blocked_by_a_read_only_flow(server):
    sid = new_id()
    put_flow(server, flow(VIDEO, source_id=sid, read_only=True))
    assert server.put(f"/sources/{sid}/label", json="ok").status_code == 204
    assert server.put(f"/sources/{sid}/tags/a", json="b").status_code == 204
    assert get_source(server, sid)["label"] == "ok"


def test_unknown_and_malformed_source_ids(server):
    put_flow(server, flow(VIDEO))
    bad = ["nope", "6101DF05-06BB-41B8-8AF4-CF7CD33DF209", "1ef0e3c2-5a4b-6c3d-8e2f-0123456789ab",
           new_id()]
    for sid in bad:
        for sub in ("", "/tags", "/tags/a", "/label", "/description"):
            source_404(server, sid, sub)
        for sub, body in (("/tags/a", "v"), ("/label", "l"), ("/description", "d")):
            check_error(server.put(f"/sources/{sid}{sub}", json=body), 404)
            check_error(server.delete(f"/sources/{sid}{sub}"), 404)
    for sid in bad[:1]:
        # A malformed id is 404 even with a bad body.
        check_error(server.put(f"/sources/{sid}/label", json=5), 404)


def test_source_methods_not_allowed(server):
    sid = put_flow(server, flow(VIDEO))["source_id"]
    for method, path in (("PUT", f"/sources/{sid}"), ("DELETE", f"/sources/{sid}"),
                         ("POST", "/sources"), ("PUT", f"/sources/{sid}/tags")):
        r = server.request(method, path, json={})
        check_error(r, 405)
        assert "GET" in r.headers["Allow"]


def test_collections_are_derived(server):
    sv, sa, sd, sm = new_id(), new_id(), new_id(), new_id()
    v = put_flow(server, flow(VIDEO, source_id=sv))
    v2 = put_flow(server, flow(VIDEO, source_id=sv))
    a = put_flow(server, flow(AUDIO, source_id=sa))
    d = put_flow(server, flow(DATA, source_id=sd))
    m = put_flow(server, flow(MULTI, source_id=sm, flow_collection=[
        {"id": v["id"], "role": "video"}, {"id": v2["id"], "role": "video"},
        {"id": a["id"], "role": "audio"}]))
    src_m = get_source(server, sm)
    assert sorted(src_m["source_collection"], key=lambda i: i["id"]) == sorted(
        [{"id": sv, "role": "video"}, {"id": sa, "role": "audio"}], key=lambda i: i["id"])
    assert "collected_by" not in src_m
    assert get_source(server, sv)["collected_by"] == [sm]
    assert get_source(server, sa)["collected_by"] == [sm]
    assert "collected_by" not in get_source(server, sd)
    for f in (v, v2, a):
        assert get_flow(server, f["id"])["collected_by"] == [m["id"]]
    assert "collected_by" not in get_flow(server, d["id"])
    # Listing shows the same derived members.
    by_id = {s["id"]: s for s in list_sources(server)}
    assert by_id[sm]["source_collection"] == src_m["source_collection"]
    assert by_id[sv]["collected_by"] == [sm]

    # A second collector.
    m2 = put_flow(server, flow(MULTI, flow_collection=[{"id": v["id"], "role": "main"}]))
    assert sorted(get_flow(server, v["id"])["collected_by"]) == sorted([m["id"], m2["id"]])
    assert sorted(get_source(server, sv)["collected_by"]) == sorted([sm, m2["source_id"]])

    # flow_collection PUT replaces members.
    last = src_m["updated"]
    d_updated = get_flow(server, d["id"])["metadata_updated"]
    time.sleep(0.002)
    coll = [{"id": d["id"], "role": "subs"}]
    assert server.put(f"/flows/{m['id']}/flow_collection", json=coll).status_code == 204
    src_m = get_source(server, sm)
    assert src_m["source_collection"] == [{"id": sd, "role": "subs"}]
    # Derived members are computed, not written: they move no timestamp (decisions.md).
    assert src_m["updated"] == last
    assert get_flow(server, d["id"])["metadata_updated"] == d_updated
    assert "collected_by" not in get_source(server, sa)
    assert get_source(server, sv)["collected_by"] == [m2["source_id"]]
    assert get_source(server, sd)["collected_by"] == [sm]
    assert "collected_by" not in get_flow(server, a["id"])
    assert get_flow(server, d["id"])["collected_by"] == [m["id"]]

    # flow_collection DELETE.
    assert server.delete(f"/flows/{m['id']}/flow_collection").status_code == 204
    assert "source_collection" not in get_source(server, sm)
    assert "collected_by" not in get_source(server, sd)
    assert "collected_by" not in get_flow(server, d["id"])

    # Deleting the collector updates its members.
    assert server.delete(f"/flows/{m2['id']}").status_code == 204
    assert "collected_by" not in get_source(server, sv)
    assert "collected_by" not in get_flow(server, v["id"])
    source_404(server, m2["source_id"])


def test_collection_survives_replace_of_a_member(server):
    v = put_flow(server, flow(VIDEO))
    m = put_flow(server, flow(MULTI, flow_collection=[{"id": v["id"], "role": "video"}]))
    put_flow(server, dict(v, label="new"), 204)
    assert get_flow(server, v["id"])["collected_by"] == [m["id"]]
    assert get_source(server, v["source_id"])["collected_by"] == [m["source_id"]]
    # A member moving to another source moves the derived members too.
    s_new = new_id()
    put_flow(server, dict(v, source_id=s_new), 204)
    assert get_source(server, m["source_id"])["source_collection"] == [
        {"id": s_new, "role": "video"}]
    assert get_source(server, s_new)["collected_by"] == [m["source_id"]]


def test_deleting_a_collected_member(server):
    v = put_flow(server, flow(VIDEO))
    m = put_flow(server, flow(MULTI, flow_collection=[{"id": v["id"], "role": "video"}]))
    assert server.delete(f"/flows/{v['id']}").status_code == 204
    # The collector no longer lists a flow that does not exist.
    got = get_flow(server, m["id"])
    assert [i["id"] for i in got.get("flow_collection", [])] == []
    assert "source_collection" not in get_source(server, m["source_id"])


def test_source_list_filters(server):
    s_cam = put_flow(server, flow(VIDEO))["source_id"]
    s_mic = put_flow(server, flow(AUDIO))["source_id"]
    s_sub = put_flow(server, flow(DATA))["source_id"]
    s_mux = put_flow(server, flow(MULTI))["source_id"]
    for sid, label, tags in ((s_cam, "cam", {"a.b": "x", "loc": "one"}),
                             (s_mic, "cam", {"loc": "two"}),
                             (s_sub, "subs", {"sp ace/%": "\u00e9"})):
        assert server.put(f"/sources/{sid}/label", json=label).status_code == 204
        for k, val in tags.items():
            r = server.put(f"/sources/{sid}/tags/{urllib.parse.quote(k, safe='')}", json=val)
            assert r.status_code == 204

    def q(query, expected):
        got = sorted(s["id"] for s in list_sources(server, query))
        assert got == sorted(expected), query

    q("", [s_cam, s_mic, s_sub, s_mux])
    q("?label=cam", [s_cam, s_mic])
    q("?label=subs", [s_sub])
    q("?label=nothing", [])
    q("?format=" + urllib.parse.quote(VIDEO), [s_cam])
    q("?format=" + urllib.parse.quote(MULTI), [s_mux])
    q("?format=" + urllib.parse.quote(AUDIO) + "&label=cam", [s_mic])
    q("?format=" + urllib.parse.quote(AUDIO) + "&label=subs", [])
    q("?tag.a.b=x", [s_cam])
    q("?tag.loc=two", [s_mic])
    q("?tag." + urllib.parse.quote("sp ace/%", safe="") + "=%C3%A9", [s_sub])
    q("?tag_exists.loc=true", [s_cam, s_mic])
    q("?tag_exists.loc=false", [s_sub, s_mux])
    q("?tag_exists.loc=true&tag.loc=one&label=cam", [s_cam])
    q("?access_token=abc&label=cam", [s_cam, s_mic])
    for bad in ("format=video", "label=a&label=b", "tag_exists.x=yes", "tag.x=1&tag.x=1",
                "limit=0", "limit=-1", "limit=abc", "source_id=" + s_cam, "codec=video/h264",
                "unknown=1", "page=%%%", "page=abc"):
        check_error(server.get("/sources?" + bad), 400)
        h = server.head("/sources?" + bad)
        assert h.status_code == 400 and h.content == b"", bad


def test_source_nul_characters_are_rejected(server):
    sid = put_flow(server, flow(VIDEO))["source_id"]
    for sub in ("/label", "/description", "/tags/k"):
        check_error(server.put(f"/sources/{sid}{sub}", json="s\u0000t"), 400)
        source_404(server, sid, sub)
