# SPDX-License-Identifier: Apache-2.0
"""Flows: /flows, /flows/{id} and every flow property endpoint, against the real binary."""
import copy
import json
import time
import urllib.parse
import uuid

import pytest

from conftest import API_VERSION, EXAMPLES, VIDEO_RATE, check_error, validate

SERVER_MEMBERS = ("created", "metadata_updated", "segments_updated", "created_by", "updated_by",
                  "collected_by", "timerange")
VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
IMAGE = "urn:x-tam:format:image"
DATA = "urn:x-nmos:format:data"
MULTI = "urn:x-nmos:format:multi"
JSON_CT = {"Content-Type": "application/json"}
PAGING_HEADERS = ("Link", "X-Paging-Limit", "X-Paging-NextKey")
PROPS = ("tags", "label", "description", "read_only", "flow_collection", "max_bit_rate",
         "avg_bit_rate")


def new_id():
    return str(uuid.uuid4())


def video_flow(fid=None, source_id=None, **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": VIDEO,
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    doc.update(extra)
    return doc


def audio_flow(fid=None, source_id=None, **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": AUDIO,
           "codec": "audio/aac", "essence_parameters": {"sample_rate": 48000, "channels": 2}}
    doc.update(extra)
    return doc


def image_flow(fid=None, source_id=None, **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": IMAGE,
           "codec": "image/jpeg",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
    doc.update(extra)
    return doc


def data_flow(fid=None, source_id=None, **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": DATA,
           "codec": "application/json", "essence_parameters": {}}
    doc.update(extra)
    return doc


def multi_flow(fid=None, source_id=None, members=(), **extra):
    doc = {"id": fid or new_id(), "source_id": source_id or new_id(), "format": MULTI}
    if members:
        doc["flow_collection"] = [{"id": m, "role": r} for m, r in members]
    doc.update(extra)
    return doc


def client_part(doc):
    return {k: v for k, v in doc.items() if k not in SERVER_MEMBERS}


def put_flow(srv, doc, status=201):
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == status, (r.status_code, r.text)
    if status == 201:
        validate(r.json(), "flow.json")
    elif status == 204:
        assert r.content == b""
    return r


def get_twin(srv, path, **kw):
    """GET and HEAD of path: same status and headers, HEAD without a body. Returns the GET."""
    g = srv.get(path, **kw)
    h = srv.head(path, **kw)
    assert h.status_code == g.status_code, (path, h.status_code, g.status_code)
    assert h.content == b"", path
    for name in ("Content-Type", "Content-Length") + PAGING_HEADERS:
        assert h.headers.get(name) == g.headers.get(name), (path, name)
    return g


def get_flow(srv, fid, **kw):
    r = get_twin(srv, f"/flows/{fid}", **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    validate(body, "flow.json")
    return body


def list_flows(srv, query=""):
    r = get_twin(srv, "/flows" + query)
    assert r.status_code == 200, (query, r.text)
    body = r.json()
    for flow in body:
        validate(flow, "flow.json")
    return body


def ids(items):
    return sorted(x["id"] for x in items)


def put_raw(srv, path, raw):
    return srv.put(path, data=raw, headers=JSON_CT)


# ---- 1. examples round-trip ---------------------------------------------------------------------

FLOW_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("flow-get-200-*.json")) + [
    "flow-put.json", "flow-put-201.json", "flow-put-multi.json"]


@pytest.mark.parametrize("name", FLOW_EXAMPLES)
def test_example_round_trip(server, name):
    example = json.loads((EXAMPLES / name).read_text())
    fid = example["id"]
    members = [item["id"] for item in example.get("flow_collection", []) if item["id"] != fid]
    for m in members:
        put_flow(server, data_flow(m))
    sent = copy.deepcopy(example)
    if any(item["id"] == fid for item in example.get("flow_collection", [])):
        # The 7.0 example lists its own id: rejected, and nothing is created.
        body = check_error(server.put(f"/flows/{fid}", json=example), 400)
        assert "flow_collection" in body["summary"], body
        check_error(server.get(f"/flows/{fid}"), 404)
        check_error(server.get(f"/sources/{example['source_id']}"), 404)
        sent["flow_collection"] = [i for i in sent["flow_collection"] if i["id"] != fid]
    r = put_flow(server, sent, 201)
    created = r.json()
    assert client_part(created) == client_part(sent)
    # Server-managed members sent by the client are ignored.
    assert created["created"] != sent.get("created")
    assert created.get("collected_by") is None
    assert "timerange" not in created
    got = get_flow(server, fid)
    assert got == created
    assert client_part(got) == client_part(sent)
    assert [f for f in list_flows(server) if f["id"] == fid] == [got]
    for m in members:
        assert get_flow(server, m)["collected_by"] == [fid]
    # The source appeared with the flow's format.
    src = get_twin(server, f"/sources/{sent['source_id']}").json()
    validate(src, "source.json")
    assert src["format"] == sent["format"]
    # Replace with only the required members: optional ones go, created stays.
    time.sleep(0.002)
    minimal = {k: sent[k] for k in ("id", "source_id", "format", "codec", "essence_parameters")
               if k in sent}
    put_flow(server, minimal, 204)
    again = get_flow(server, fid)
    assert client_part(again) == minimal
    assert again["created"] == created["created"]
    assert again["metadata_updated"] != got["metadata_updated"]
    for m in members:
        assert "collected_by" not in get_flow(server, m)


def test_server_members_are_ignored(server):
    doc = video_flow(created="2001-01-01T00:00:00Z", metadata_updated="2001-01-01T00:00:00Z",
                     segments_updated="2001-01-01T00:00:00Z", created_by="mallory",
                     updated_by="mallory", collected_by=[new_id()], timerange="[0:0_10:0)")
    body = put_flow(server, doc).json()
    for k in ("created", "metadata_updated", "segments_updated"):
        assert not body.get(k, "").startswith("2001"), body
    assert body.get("created_by") != "mallory" and body.get("updated_by") != "mallory"
    assert "collected_by" not in body and "timerange" not in body
    got = get_flow(server, doc["id"])
    assert client_part(got) == client_part(doc)
    assert got["created"] == body["created"]


def test_include_timerange_without_segments(server):
    doc = put_flow(server, video_flow()).json()
    assert "timerange" not in get_flow(server, doc["id"])
    assert get_flow(server, doc["id"], params={"include_timerange": "true"})["timerange"] == "()"
    assert "timerange" not in get_flow(server, doc["id"], params={"include_timerange": "false"})
    check_error(server.get(f"/flows/{doc['id']}?include_timerange=yes"), 400)
    assert server.head(f"/flows/{doc['id']}?include_timerange=yes").status_code == 400
    check_error(server.get(f"/flows/{doc['id']}?timerange=[a_b)"), 400)
    check_error(server.get(f"/flows/{doc['id']}?bogus=1"), 400)
    assert get_twin(server, f"/flows/{doc['id']}?access_token=abc").status_code == 200


def test_replace_keeps_created_and_moves_metadata_updated(server):
    doc = video_flow(label="one", tags={"a": "1"}, description="d", max_bit_rate=5,
                     avg_bit_rate=4, read_only=False, generation=2, metadata_version="v1")
    first = put_flow(server, doc).json()
    time.sleep(0.002)
    doc2 = video_flow(doc["id"], doc["source_id"], label="two")
    put_flow(server, doc2, 204)
    got = get_flow(server, doc["id"])
    assert client_part(got) == doc2
    assert got["created"] == first["created"]
    assert got["metadata_updated"] > first["metadata_updated"]
    check_error(server.get(f"/flows/{doc['id']}/description"), 404)
    assert server.get(f"/flows/{doc['id']}/tags").json() == {}


# ---- 2. validation ------------------------------------------------------------------------------

def _without(doc, *path):
    doc = copy.deepcopy(doc)
    target = doc
    for k in path[:-1]:
        target = target[k]
    del target[path[-1]]
    return doc


def _with(doc, value, *path):
    doc = copy.deepcopy(doc)
    target = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    return doc


def test_validation_errors_name_the_field(server):
    fid, sid = new_id(), new_id()
    base = video_flow(fid, sid, label="kept", tags={"k": "v"})
    put_flow(server, base)
    member = put_flow(server, data_flow()).json()["id"]
    before = get_flow(server, fid)
    srcs_before = server.get("/sources").json()
    v6 = "1ef0e3c2-5a4b-6c3d-8e2f-0123456789ab"
    cases = [
        (_without(base, "id"), "id"),
        (_without(base, "source_id"), "source_id"),
        (_without(base, "format"), "format"),
        (_without(base, "codec"), "codec"),
        (_without(base, "essence_parameters"), "essence_parameters"),
        (_without(base, "essence_parameters", "frame_width"), "frame_width"),
        (_with(base, 5, "label"), "label"),
        (_with(base, ["x"], "description"), "description"),
        (_with(base, {"a": 1}, "tags"), "tags"),
        (_with(base, "tagstring", "tags"), "tags"),
        (_with(base, -1, "generation"), "generation"),
        (_with(base, "1", "generation"), "generation"),
        (_with(base, "true", "read_only"), "read_only"),
        (_with(base, -1, "max_bit_rate"), "max_bit_rate"),
        (_with(base, 1.5, "avg_bit_rate"), "avg_bit_rate"),
        (_with(base, "1920", "essence_parameters", "frame_width"), "frame_width"),
        (_with(base, 0, "essence_parameters", "frame_height"), "frame_height"),
        (_with(base, "urn:x-nmos:format:smell", "format"), "format"),
        (_with(base, "weird", "essence_parameters", "interlace_mode"), "interlace_mode"),
        (_with(base, "bt709", "essence_parameters", "colorspace"), "colorspace"),
        (_with(base, "video h264", "codec"), "codec"),
        (_with(base, "videoh264", "codec"), "codec"),
        (_with(base, 1, "essence_parameters", "sample_rate"), "sample_rate"),
        (_with(base, sid.upper(), "source_id"), "source_id"),
        (_with(base, v6, "source_id"), "source_id"),
        (_with(base, "not-a-uuid", "source_id"), "source_id"),
        (_with(base, [{"id": new_id(), "role": "x"}], "flow_collection"), "flow_collection"),
        # 8.2 allows a member without a role (change 17), not one with a bad role.
        (_with(base, [{"id": member}] if API_VERSION == "7.0" else [{"id": member, "role": 5}],
               "flow_collection"), "role"),
        (_with(base, [{"id": fid, "role": "self"}], "flow_collection"), "flow_collection"),
        (_with(base, [{"id": "nope", "role": "x"}], "flow_collection"), "flow_collection"),
        (_with(base, {"numerator": 0}, "segment_duration"), "numerator"),
        # 8.2 allows a list of strings as a tag value (change 10), not a list of anything.
        (_with(base, {"a": ["x"] if API_VERSION == "7.0" else ["x", 1]}, "tags"), "tags"),
        (_with(base, None, "label"), "label"),
        (_with(base, None, "read_only"), "read_only"),
        (_with(base, {"numerator": 1, "denominator": 0}, "segment_duration"), "denominator"),
        (_with(base, {"track_index": -1}, "container_mapping"), "track_index"),
        (_with(base, "00000000-0000-0000-0000-000000000000", "source_id"), "source_id"),
        (_with(base, [], "essence_parameters"), "essence_parameters"),
        (_with(base, {"profile": 1, "level": 1}, "essence_parameters", "avc_parameters"),
         "flags"),
        (_with(base, new_id(), "id"), "id"),
        (_with(base, fid.upper(), "id"), "id"),
    ]
    for doc, field in cases:
        body = check_error(server.put(f"/flows/{fid}", json=doc), 400)
        assert field in body["summary"], (field, body)
    for raw in (b"null", b"[]", b'"flow"', b"5", b"true", b"{", b"hello"):
        check_error(put_raw(server, f"/flows/{fid}", raw), 400)
    # A wrong body on a new id creates nothing either.
    other = new_id()
    check_error(server.put(f"/flows/{other}", json=_without(video_flow(other), "codec")), 400)
    check_error(server.get(f"/flows/{other}"), 404)
    assert get_flow(server, fid) == before
    assert server.get("/sources").json() == srcs_before


def test_multi_and_data_minimal_bodies(server):
    put_flow(server, multi_flow())
    put_flow(server, data_flow())
    # A multi flow needs no codec/essence_parameters; a data flow needs both.
    bad = data_flow()
    del bad["essence_parameters"]
    check_error(server.put(f"/flows/{bad['id']}", json=bad), 400)


def test_top_level_unknown_members_are_kept(server):
    doc = video_flow(x_vendor={"a": [1, 2]})
    put_flow(server, doc)
    assert client_part(get_flow(server, doc["id"])) == doc


def test_source_format_conflict(server):
    sid = new_id()
    v = put_flow(server, video_flow(source_id=sid)).json()
    a = audio_flow(source_id=sid)
    body = check_error(server.put(f"/flows/{a['id']}", json=a), 400)
    assert "format" in body["summary"], body
    check_error(server.get(f"/flows/{a['id']}"), 404)
    assert server.get(f"/sources/{sid}").json()["format"] == VIDEO
    # A second video flow of the same source is fine.
    put_flow(server, video_flow(source_id=sid))
    assert get_flow(server, v["id"])["source_id"] == sid


FLOW_SUBPATHS = ["", "/tags", "/tags/name", "/label", "/description", "/read_only",
                 "/flow_collection", "/max_bit_rate", "/avg_bit_rate"]
BAD_IDS = ["not-a-uuid", "6101DF05-06BB-41B8-8AF4-CF7CD33DF209",
           "1ef0e3c2-5a4b-6c3d-8e2f-0123456789ab", "01890a5d-ac96-774b-bcce-b302099a8057",
           "6101df05-06bb-41b8-8af4-cf7cd33df20", "6101df05-06bb-41b8-caf4-cf7cd33df209"]
PUT_BODIES = {"": None, "/tags": None, "/tags/name": "v", "/label": "l", "/description": "d",
              "/read_only": True, "/flow_collection": [], "/max_bit_rate": 1,
              "/avg_bit_rate": 1}


def _methods(sub):
    methods = ["GET", "HEAD"]
    if sub != "/tags":
        methods.append("PUT")
        if sub != "/read_only":
            methods.append("DELETE")
    return methods


def test_malformed_and_unknown_flow_ids_are_404(server):
    for sub in FLOW_SUBPATHS:
        for method in _methods(sub):
            for fid in BAD_IDS + [new_id()]:
                if method == "PUT":
                    if sub == "" and fid not in BAD_IDS:
                        continue  # PUT of a new valid id creates it
                    body = PUT_BODIES[sub] if sub else video_flow(fid)
                    r = server.request(method, f"/flows/{fid}{sub}", json=body)
                else:
                    r = server.request(method, f"/flows/{fid}{sub}")
                if method == "HEAD":
                    assert r.status_code == 404 and r.content == b"", (method, sub, fid)
                else:
                    check_error(r, 404)
    assert server.get("/flows").json() == []


# ---- 3. properties ------------------------------------------------------------------------------

def _prop_twin(srv, path, status):
    r = get_twin(srv, path)
    assert r.status_code == status, (path, r.status_code, r.text)
    if status == 200:
        return r.json()
    check_error(r, status)
    return None


def test_unset_properties(server):
    fid = put_flow(server, video_flow()).json()["id"]
    assert _prop_twin(server, f"/flows/{fid}/tags", 200) == {}
    assert _prop_twin(server, f"/flows/{fid}/read_only", 200) is False
    assert _prop_twin(server, f"/flows/{fid}/flow_collection", 200) == []
    for p in ("label", "description", "max_bit_rate", "avg_bit_rate", "tags/nope"):
        _prop_twin(server, f"/flows/{fid}/{p}", 404)
    r = server.get(f"/flows/{fid}/read_only")
    assert r.headers["Content-Type"].startswith("application/json") and r.text == "false"


@pytest.mark.parametrize("prop,value,bad", [
    ("label", "hello \u2603 \"q\"", [b"hello", b"5", b"null", b"true", b'["a"]', b"{}"]),
    ("description", "a longer\ndescription", [b"desc", b"1", b"null", b"[]"]),
    ("max_bit_rate", 5000, [b"-1", b"1.5", b'"5"', b"null", b"true", b"1e3"]),
    ("avg_bit_rate", 0, [b"-1", b"1.5", b'"5"', b"null", b"false"]),
])
def test_scalar_property(server, prop, value, bad):
    doc = put_flow(server, video_flow()).json()
    fid = doc["id"]
    path = f"/flows/{fid}/{prop}"
    last = doc["metadata_updated"]
    time.sleep(0.002)
    r = server.put(path, json=value)
    assert r.status_code == 204 and r.content == b"", r.text
    assert _prop_twin(server, path, 200) == value
    flow = get_flow(server, fid)
    assert flow[prop] == value
    assert flow["metadata_updated"] > last
    assert flow["created"] == doc["created"]
    last = flow["metadata_updated"]
    for raw in bad:
        check_error(put_raw(server, path, raw), 400)
    check_error(server.put(path, data=json.dumps(value).encode(),
                           headers={"Content-Type": "text/plain"}), 400)
    check_error(put_raw(server, path, b""), 400)
    assert get_flow(server, fid) == flow
    time.sleep(0.002)
    r = server.delete(path)
    assert r.status_code == 204 and r.content == b""
    _prop_twin(server, path, 404)
    flow = get_flow(server, fid)
    assert prop not in flow and flow["metadata_updated"] > last
    # Deleting an unset property is fine (idempotent).
    assert server.delete(path).status_code == 204


def test_read_only_property(server):
    fid = put_flow(server, video_flow()).json()["id"]
    path = f"/flows/{fid}/read_only"
    for raw in (b'"true"', b"1", b"null", b'"false"', b"[true]", b'{"read_only":true}'):
        check_error(put_raw(server, path, raw), 400)
    assert server.put(path, json=True).status_code == 204
    assert _prop_twin(server, path, 200) is True
    assert get_flow(server, fid)["read_only"] is True
    assert server.put(path, json=False).status_code == 204
    assert _prop_twin(server, path, 200) is False
    r = server.delete(path)
    assert r.status_code == 405 and "PUT" in r.headers.get("Allow", "")


TAG_NAMES = ["simple", "with.dot", "with space", "a/b", "caf\u00e9 \u2603", "100%", "a+b",
             "q?x=1&y", "#hash"]


def test_tags_property(server):
    doc = put_flow(server, video_flow(tags={"pre": "existing"})).json()
    fid = doc["id"]
    expected = {"pre": "existing"}
    last = doc["metadata_updated"]
    for i, name in enumerate(TAG_NAMES):
        enc = urllib.parse.quote(name, safe="")
        time.sleep(0.002)
        r = server.put(f"/flows/{fid}/tags/{enc}", json=f"value {i} \u00e9")
        assert r.status_code == 204, (name, r.text)
        expected[name] = f"value {i} \u00e9"
        assert _prop_twin(server, f"/flows/{fid}/tags/{enc}", 200) == expected[name]
        flow = get_flow(server, fid)
        assert flow["tags"] == expected
        assert flow["metadata_updated"] > last
        last = flow["metadata_updated"]
    assert _prop_twin(server, f"/flows/{fid}/tags", 200) == expected
    # The encoded slash is one name, not a path separator.
    _prop_twin(server, f"/flows/{fid}/tags/a", 404)
    lists = [b'["a"]'] if API_VERSION == "7.0" else [b'["a", 5]', b'[["a"]]']  # change 10
    for raw in [b"value", b"5", b"null", b'{"a":"b"}'] + lists:
        check_error(put_raw(server, f"/flows/{fid}/tags/x", raw), 400)
    _prop_twin(server, f"/flows/{fid}/tags/x", 404)
    # Overwrite, then delete each.
    assert server.put(f"/flows/{fid}/tags/pre", json="changed").status_code == 204
    expected["pre"] = "changed"
    assert get_flow(server, fid)["tags"] == expected
    for name in list(expected):
        enc = urllib.parse.quote(name, safe="")
        assert server.delete(f"/flows/{fid}/tags/{enc}").status_code == 204, name
        del expected[name]
        _prop_twin(server, f"/flows/{fid}/tags/{enc}", 404)
        check_error(server.delete(f"/flows/{fid}/tags/{enc}"), 404)
    assert _prop_twin(server, f"/flows/{fid}/tags", 200) == {}


def test_flow_collection_property(server):
    a = put_flow(server, video_flow()).json()["id"]
    b = put_flow(server, audio_flow()).json()["id"]
    m = put_flow(server, multi_flow()).json()
    path = f"/flows/{m['id']}/flow_collection"
    coll = [{"id": a, "role": "video"},
            {"id": b, "role": "audio", "container_mapping": {"track_index": 1,
                                                             "audio_track": {"channel_range": "0_1"}}}]
    time.sleep(0.002)
    assert server.put(path, json=coll).status_code == 204
    got = _prop_twin(server, path, 200)
    validate(got, "flow-collection.json")
    assert got == coll
    flow = get_flow(server, m["id"])
    assert flow["flow_collection"] == coll and flow["metadata_updated"] > m["metadata_updated"]
    assert get_flow(server, a)["collected_by"] == [m["id"]]
    assert get_flow(server, b)["collected_by"] == [m["id"]]
    roleless = [[{"id": a}]] if API_VERSION == "7.0" else []  # 8.2 allows it (change 17)
    for bad in roleless + [
            [{"id": new_id(), "role": "x"}], [{"id": m["id"], "role": "self"}],
            [{"role": "x"}], {"id": a, "role": "x"}, "x", [{"id": a.upper(), "role": "x"}],
            [{"id": a, "role": 5}],
            [{"id": a, "role": "x", "container_mapping": {"track_index": -1}}],
            [{"id": a, "role": "x", "container_mapping": {"audio_track": {
                "channel_range": "1-2"}}}]]:
        check_error(server.put(path, json=bad), 400)
    assert _prop_twin(server, path, 200) == coll
    assert server.put(path, json=[{"id": b, "role": "audio"}]).status_code == 204
    assert "collected_by" not in get_flow(server, a)
    assert server.delete(path).status_code == 204
    assert _prop_twin(server, path, 200) == []
    assert "flow_collection" not in get_flow(server, m["id"])
    assert "collected_by" not in get_flow(server, b)
    # Deleting a member drops it from the collector's collection? The member cannot go while
    # collected: see decisions. Here the collector goes first and the members lose collected_by.
    assert server.put(path, json=coll).status_code == 204
    assert server.delete(f"/flows/{m['id']}").status_code == 204
    assert "collected_by" not in get_flow(server, a)


def test_read_only_blocks_every_write(server):
    coll_member = put_flow(server, data_flow()).json()["id"]
    doc = video_flow(label="l", description="d", tags={"t": "v"}, max_bit_rate=1, avg_bit_rate=1,
                     flow_collection=[{"id": coll_member, "role": "x"}])
    fid = put_flow(server, doc).json()["id"]
    assert server.put(f"/flows/{fid}/read_only", json=True).status_code == 204
    before = get_flow(server, fid)
    src_before = server.get(f"/sources/{doc['source_id']}").json()
    writes = [("PUT", "", dict(doc, read_only=True, label="changed")),
              ("PUT", "", dict(doc, read_only=False)),
              ("DELETE", "", None),
              ("PUT", "/tags/t", "x"), ("PUT", "/tags/new", "x"), ("DELETE", "/tags/t", None),
              ("PUT", "/label", "x"), ("DELETE", "/label", None),
              ("PUT", "/description", "x"), ("DELETE", "/description", None),
              ("PUT", "/flow_collection", []), ("DELETE", "/flow_collection", None),
              ("PUT", "/max_bit_rate", 9), ("DELETE", "/max_bit_rate", None),
              ("PUT", "/avg_bit_rate", 9), ("DELETE", "/avg_bit_rate", None)]
    for method, sub, body in writes:
        kw = {"json": body} if method == "PUT" else {}
        body = check_error(server.request(method, f"/flows/{fid}{sub}", **kw), 403)
        assert "read" in body["summary"], body
    assert get_flow(server, fid) == before
    assert server.get(f"/sources/{doc['source_id']}").json() == src_before
    assert "collected_by" in get_flow(server, coll_member)
    # Reads are unaffected, the member can still change, and read_only itself can be cleared.
    assert get_twin(server, f"/flows/{fid}/tags").status_code == 200
    assert server.put(f"/flows/{coll_member}/label", json="m").status_code == 204
    assert server.put(f"/flows/{fid}/read_only", json=True).status_code == 204
    assert server.put(f"/flows/{fid}/read_only", json=False).status_code == 204
    assert server.put(f"/flows/{fid}/label", json="now").status_code == 204
    assert server.delete(f"/flows/{fid}").status_code == 204
    check_error(server.get(f"/flows/{fid}"), 404)


def test_read_only_via_flow_put(server):
    doc = video_flow(read_only=True)
    put_flow(server, doc)
    check_error(server.put(f"/flows/{doc['id']}", json=dict(doc, label="x")), 403)
    check_error(server.delete(f"/flows/{doc['id']}"), 403)
    assert server.put(f"/flows/{doc['id']}/read_only", json=False).status_code == 204
    put_flow(server, dict(doc, read_only=False, label="x"), 204)


def test_delete_flow(server):
    doc = put_flow(server, video_flow()).json()
    r = server.delete(f"/flows/{doc['id']}")
    assert r.status_code == 204 and r.content == b""
    check_error(server.get(f"/flows/{doc['id']}"), 404)
    check_error(server.delete(f"/flows/{doc['id']}"), 404)
    check_error(server.get(f"/sources/{doc['source_id']}"), 404)
    # Re-creating gives a new created time.
    time.sleep(0.002)
    again = put_flow(server, client_part(doc)).json()
    assert again["created"] > doc["created"]


def test_methods_not_allowed(server):
    fid = put_flow(server, video_flow()).json()["id"]
    for method, path in (("POST", "/flows"), ("PUT", "/flows"), ("DELETE", "/flows"),
                         ("POST", f"/flows/{fid}"), ("PUT", f"/flows/{fid}/tags"),
                         ("POST", f"/flows/{fid}/label")):
        r = server.request(method, path)
        check_error(r, 405)
        assert "GET" in r.headers["Allow"]


# ---- 5. listing filters -------------------------------------------------------------------------

def test_flow_list_filters(server):
    s1, s2 = new_id(), new_id()
    v1 = video_flow(source_id=s1, label="cam", tags={"a.b": "x", "loc": "studio one"})
    v2 = video_flow(source_id=s1, label="cam", tags={"loc": "studio two"},
                    essence_parameters={"frame_width": 1280, "frame_height": 720, **VIDEO_RATE})
    v2["codec"] = "video/raw"
    v2["essence_parameters"].update({"bit_depth": 10, "unc_parameters": {"unc_type": "v210"}})
    im = image_flow(source_id=new_id(), label="still", tags={"a.b": "y", "sp ace/%": "\u00e9"})
    au = audio_flow(source_id=s2, label="cam", tags={"loc": "studio one"})
    da = data_flow(source_id=new_id())
    mu = multi_flow(source_id=new_id(), members=[(v1["id"], "v"), (au["id"], "a")])
    for d in (v1, v2, im, au, da, mu):
        put_flow(server, d)
    every = ids([v1, v2, im, au, da, mu])

    def q(query, expected):
        got = list_flows(server, query)
        assert ids(got) == ids(expected), (query, [g.get("label") for g in got])

    q("", [v1, v2, im, au, da, mu])
    assert ids(list_flows(server, "")) == every
    q(f"?source_id={s1}", [v1, v2])
    q(f"?source_id={new_id()}", [])
    q("?format=" + urllib.parse.quote(VIDEO), [v1, v2])
    q("?format=" + urllib.parse.quote(IMAGE), [im])
    q("?format=" + urllib.parse.quote(MULTI), [mu])
    q("?codec=video/h264", [v1])
    q("?codec=video%2Fraw", [v2])
    q("?label=cam", [v1, v2, au])
    q("?label=still", [im])
    q("?label=Cam", [])
    q("?frame_width=1920", [v1, im])
    q("?frame_width=1280", [v2])
    q("?frame_height=1080&frame_width=1920", [v1, im])
    q("?frame_height=720&frame_width=1920", [])
    q("?tag.a.b=x", [v1])
    q("?tag.a.b=y", [im])
    q("?tag.a=x", [])
    q("?tag.loc=studio+one", [v1, au])
    q("?tag.loc=studio%20one&format=" + urllib.parse.quote(AUDIO), [au])
    q("?tag." + urllib.parse.quote("sp ace/%", safe="") + "=%C3%A9", [im])
    q("?tag_exists.loc=true", [v1, v2, au])
    q("?tag_exists.loc=false", [im, da, mu])
    q("?tag_exists.a.b=true&tag_exists.loc=true", [v1])
    q("?tag_exists.nothing=false", [v1, v2, im, au, da, mu])
    q("?tag_exists.nothing=true", [])
    q("?label=cam&tag.loc=studio+two", [v2])
    q(f"?source_id={s1}&label=cam&codec=video/h264&frame_width=1920&tag.a.b=x", [v1])
    # timerange: absent, _ and () keep flows without segments; a bounded range drops them.
    q("?timerange=_", [v1, v2, im, au, da, mu])
    q("?timerange=()", [v1, v2, im, au, da, mu])
    q("?timerange=" + urllib.parse.quote("[0:0_10:0)"), [])
    q("?timerange=" + urllib.parse.quote("[0:0_"), [])
    q("?timerange=" + urllib.parse.quote("[10:0_0:0)"), [v1, v2, im, au, da, mu])  # empty
    q("?timerange=" + urllib.parse.quote("(5:0)"), [v1, v2, im, au, da, mu])  # empty
    q("?timerange=" + urllib.parse.quote("5:0"), [])
    q("?access_token=secret", [v1, v2, im, au, da, mu])
    q("?access_token=secret&label=still", [im])


def test_flow_list_bad_queries(server):
    put_flow(server, video_flow())
    bad = ["format=video", "format=urn:x-nmos:format:Video", "source_id=abc",
           "source_id=6101DF05-06BB-41B8-8AF4-CF7CD33DF209", "frame_width=abc",
           "frame_width=1.5", "frame_height=", "tag_exists.x=maybe", "tag_exists.x=",
           "timerange=" + urllib.parse.quote("[a_b)"), "timerange=nonsense", "limit=0",
           "limit=-1", "limit=abc", "limit=", "limit=1.5", "label=a&label=b",
           "tag.x=1&tag.x=2", "tag_exists.x=true&tag_exists.x=false", "format=a&format=b",
           "frame_width=1&frame_width=1", "unknown=1", "tags.x=1", "tag=1", "tag.=x",
           "tag_exists.=true", "page=garbage", "codec=nomime"]
    for query in bad:
        body = check_error(server.get("/flows?" + query), 400)
        h = server.head("/flows?" + query)
        assert h.status_code == 400 and h.content == b"", query
        name = query.split("=")[0]
        if name not in ("tag.", "tag_exists."):
            assert name.split(".")[0] in body["summary"], (query, body)


def test_property_bodies_are_strict_json(server):
    """RFC 8259 literals are lowercase; no comments, no leading zeros (json-c is lenient)."""
    fid = put_flow(server, video_flow()).json()["id"]
    for prop, raws in (("read_only", (b"True", b"TRUE", b"tRue", b"False", b"/*c*/true",
                                      b"true //c")),
                       ("max_bit_rate", (b"01", b"/*c*/1", b"1 //c", b"# c\n1")),
                       ("label", (b'/*c*/"x"', b"'x'", b"Null"))):
        for raw in raws:
            r = put_raw(server, f"/flows/{fid}/{prop}", raw)
            assert r.status_code == 400, (prop, raw, r.status_code)
    assert get_flow(server, fid).get("read_only") is None


def test_nul_characters_are_rejected(server):
    """U+0000 in a string would be cut short by the store's C strings: 400, nothing stored."""
    doc = video_flow(label="kept")
    put_flow(server, doc)
    before = get_flow(server, doc["id"])
    for bad in (dict(doc, label="a\u0000b"), dict(doc, tags={"k": "v\u0000w"}),
                dict(doc, description="\u0000"),
                dict(doc, essence_parameters=dict(doc["essence_parameters"],
                                                  colorspace="BT709\u0000"))):
        body = check_error(server.put(f"/flows/{doc['id']}", json=bad), 400)
        assert "U+0000" in body["summary"] or "colorspace" in body["summary"], body
    for prop in ("label", "description", "tags/k"):
        check_error(server.put(f"/flows/{doc['id']}/{prop}", json="x\u0000y"), 400)
    check_error(server.get("/flows?label=a%00"), 400)
    assert get_flow(server, doc["id"]) == before
    assert list_flows(server, "?label=a") == []


def test_nul_in_a_tag_name_is_rejected(server):
    """json-c truncates object keys at U+0000: {"n\u0000ul": "v"} must not become tag "n"."""
    doc = video_flow(tags={"n\u0000ul": "v"})
    check_error(server.put(f"/flows/{doc['id']}", json=doc), 400)
    doc = video_flow(essence_parameters={"frame_width": 1, "frame_height": 1, **VIDEO_RATE,
                                         "colorspace\u0000junk": 5})
    check_error(server.put(f"/flows/{doc['id']}", json=doc), 400)
    # An escaped backslash followed by the text u0000 is not a NUL.
    doc = video_flow(tags={"a\\u0000": "b\\u0000"})
    put_flow(server, doc)
    assert get_flow(server, doc["id"])["tags"] == {"a\\u0000": "b\\u0000"}
    assert server.get("/flows").json()[0]["tags"] == doc["tags"]


def test_too_many_tag_filters(server):
    put_flow(server, video_flow())
    query = "&".join(f"tag.t{i}=x" for i in range(64))
    assert list_flows(server, "?" + query) == []
    query = "&".join(f"tag_exists.t{i}=false" for i in range(65))
    body = check_error(server.get("/flows?" + query), 400)
    assert "tag" in body["summary"], body
    body = check_error(server.get("/sources?" + query), 400)
    assert "tag" in body["summary"], body


def test_numbers_are_kept_exactly_or_rejected(server):
    """NaN/Infinity would be written back as invalid JSON; integers beyond 64 bits would be
    saturated by the parser. Both are 400; big but representable numbers round-trip."""
    doc = multi_flow()
    put_flow(server, doc)
    before = get_flow(server, doc["id"])
    template = ('{"id":"%s","source_id":"%s","format":"%s","x_vendor":%%s}'
                % (doc["id"], doc["source_id"], MULTI))
    for raw in ("NaN", "Infinity", "-Infinity", "99999999999999999999",
                "-99999999999999999999", "[1, NaN]", '{"deep": [99999999999999999999]}'):
        body = check_error(put_raw(server, f"/flows/{doc['id']}", (template % raw).encode()),
                           400)
        assert "x_vendor" in body["summary"] or "deep" in body["summary"], body
    for prop in ("max_bit_rate", "avg_bit_rate"):
        for raw in (b"99999999999999999999", b"18446744073709551616", b"NaN", b"Infinity"):
            check_error(put_raw(server, f"/flows/{doc['id']}/{prop}", raw), 400)
    assert get_flow(server, doc["id"]) == before
    for raw, value in (("9223372036854775807", 9223372036854775807),
                       ("-9223372036854775807", -9223372036854775807), ("1.25e3", 1250.0)):
        put_raw(server, f"/flows/{doc['id']}", (template % raw).encode())
        assert get_flow(server, doc["id"])["x_vendor"] == value
    r = server.put(f"/flows/{doc['id']}/max_bit_rate", json=9223372036854775807)
    assert r.status_code == 204
    assert server.get(f"/flows/{doc['id']}/max_bit_rate").json() == 9223372036854775807


def test_collection_duplicates_and_cycles(server):
    """Only self-reference is refused: duplicate items are kept as sent, and two flows may
    collect each other (decisions.md)."""
    a = put_flow(server, multi_flow()).json()["id"]
    coll = [{"id": a, "role": "x"}, {"id": a, "role": "y"}, {"id": a, "role": "x"}]
    m = multi_flow(flow_collection=coll)
    put_flow(server, m)
    assert get_flow(server, m["id"])["flow_collection"] == coll
    assert get_flow(server, a)["collected_by"] == [m["id"]]
    src = server.get(f"/sources/{m['source_id']}").json()
    validate(src, "source.json")
    assert sorted(i["role"] for i in src["source_collection"]) == ["x", "y"]
    assert server.put(f"/flows/{a}/flow_collection",
                      json=[{"id": m["id"], "role": "back"}]).status_code == 204
    assert get_flow(server, m["id"])["collected_by"] == [a]
    assert get_flow(server, a)["collected_by"] == [m["id"]]
    assert server.delete(f"/flows/{m['id']}").status_code == 204
    got = get_flow(server, a)
    assert "flow_collection" not in got and "collected_by" not in got


def test_empty_string_label_is_set(server):
    doc = put_flow(server, video_flow()).json()
    assert server.put(f"/flows/{doc['id']}/label", json="").status_code == 204
    assert _prop_twin(server, f"/flows/{doc['id']}/label", 200) == ""
    assert ids(list_flows(server, "?label=")) == [doc["id"]]
    assert list_flows(server, "?label=x") == []
