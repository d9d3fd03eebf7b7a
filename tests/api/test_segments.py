# SPDX-License-Identifier: Apache-2.0
"""Segments: POST and GET/HEAD /flows/{id}/segments, get_urls and the write-read round trip."""
import base64
import os
import re
import time
import urllib.parse
import uuid

import pytest

from conftest import API_VERSION, Server, VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"
JSON_CT = {"Content-Type": "application/json"}
LINK_RE = re.compile(r'^<([^>]+)>; rel="next"$')
SEG_HEADERS = ("Link", "X-Paging-Limit", "X-Paging-NextKey", "X-Paging-Count",
               "X-Paging-Timerange", "X-Paging-Reverse-Order", "Content-Type", "Content-Length")
EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def new_id():
    return str(uuid.uuid4())


def video_flow(fid=None, container="video/mp2t"):
    doc = {"id": fid or new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    if container:
        doc["container"] = container
    return doc


def make_flow(srv, container="video/mp2t"):
    doc = video_flow(container=container)
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def allocate(srv, fid, n=1, **body):
    body = body or {"limit": n}
    r = srv.post(f"/flows/{fid}/storage", json=body)
    assert r.status_code == 201, r.text
    return r.json()["media_objects"]


def upload(srv, obj, data=b"media"):
    """PUT bytes to an allocated object's put_url: registration checks they are there."""
    put = obj["put_url"]
    r = srv.session.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                        timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)


def allocate_uploaded(srv, fid, n=1):
    objs = allocate(srv, fid, n)
    for o in objs:
        upload(srv, o)
    return objs


def ext_seg(tr, object_id=None, **kw):
    """A segment of an uncontrolled (external) object."""
    doc = {"object_id": object_id or "ext-" + new_id(), "timerange": tr, "get_urls": EXT}
    doc.update(kw)
    return doc


def post(srv, fid, body, status=201):
    r = srv.post(f"/flows/{fid}/segments", json=body)
    if status in (201,):
        assert r.status_code == 201, (r.status_code, r.text)
        assert r.content == b""
    elif status == 200:
        assert r.status_code == 200, (r.status_code, r.text)
        validate(r.json(), "flow-segment-bulk-failure.json")
    else:
        check_error(r, status)
    return r


def twin(srv, path_or_url, params=None):
    """GET and HEAD: same status and headers, HEAD without a body. Returns the GET."""
    url = path_or_url if path_or_url.startswith("http") else srv.api + path_or_url
    g = srv.session.get(url, params=params, timeout=30)
    h = srv.session.head(url, params=params, timeout=30)
    assert h.status_code == g.status_code, (url, g.status_code, h.status_code)
    assert h.content == b""
    for name in SEG_HEADERS:
        assert h.headers.get(name) == g.headers.get(name), (url, name)
    return g


def listing(srv, fid, params=None, status=200):
    r = twin(srv, f"/flows/{fid}/segments", params)
    if status != 200:
        check_error(r, status)
        return r
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list)
    for seg in body:
        validate(seg, "flow-segment.json")
    assert r.headers["X-Paging-Count"] == str(len(body))
    assert r.headers["X-Paging-Reverse-Order"] in ("true", "false")
    assert "X-Paging-Timerange" in r.headers and "X-Paging-Limit" in r.headers
    return r


def segs(srv, fid, params=None):
    return listing(srv, fid, params).json()


def ranges(srv, fid, params=None):
    return [s["timerange"] for s in segs(srv, fid, params)]


def flow_state(srv, fid):
    r = srv.get(f"/flows/{fid}", params={"include_timerange": "true"})
    assert r.status_code == 200
    validate(r.json(), "flow.json")
    return r.json().get("timerange"), r.json().get("segments_updated")


def hull(first, last):
    """The text hull of two segment timeranges, first starting earlier."""
    start = first.split("_")[0] if "_" in first else first[:-1]
    end = last.split("_")[1] if "_" in last else last[1:]
    return start + "_" + end


def failures(r):
    return [(f["object_id"], f.get("timerange")) for f in r.json()["failed_segments"]]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("segments"), args=["--page-limit-max", "50", "--page-limit-default", "30"])
    s.start()
    yield s
    s.stop()


def backend(srv):
    return srv.get("/service/storage-backends").json()[0]


# ---- POST ---------------------------------------------------------------------------------------


def test_post_single_and_array(srv):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_1:0)"))
    post(srv, fid, [ext_seg("[1:0_2:0)"), ext_seg("[2:0_3:0)")])
    assert ranges(srv, fid) == ["[0:0_1:0)", "[1:0_2:0)", "[2:0_3:0)"]


def test_post_all_members_round_trip(srv):
    fid = make_flow(srv)
    obj = allocate_uploaded(srv, fid)[0]["object_id"]
    sent = {"object_id": obj, "timerange": "[10:0_12:0)", "ts_offset": "-1:500000000",
            "last_duration": "0:20000000", "sample_offset": 5, "sample_count": 50,
            "key_frame_count": 1}
    post(srv, fid, sent)
    got = segs(srv, fid, {"accept_get_urls": ""})
    assert got == [sent]


def test_bulk_partial_failure(srv):
    fid = make_flow(srv)
    before = flow_state(srv, fid)
    body = [ext_seg("[0:0_1:0)", "good-1"), {"object_id": "bad-1", "timerange": "garbage"},
            ext_seg("[1:0_2:0)", "good-2"), {"timerange": "[5:0_6:0)"},
            ext_seg("[0:500000000_0:600000000)", "bad-overlap"), 5,
            ext_seg("[3:0_4:0)", "bad-neg", sample_count=-1)]
    r = post(srv, fid, body, status=200)
    got = failures(r)
    assert got == [("bad-1", None), ("", "[5:0_6:0)"),
                   ("bad-overlap", "[0:500000000_0:600000000)"), ("", None),
                   ("bad-neg", "[3:0_4:0)")]
    for f in r.json()["failed_segments"]:
        validate(f["error"], "error.json")
        assert f["error"]["summary"]
    assert ranges(srv, fid) == ["[0:0_1:0)", "[1:0_2:0)"]
    after = flow_state(srv, fid)
    assert after[0] == "[0:0_2:0)" and after[1] != before[1]


def test_single_bad_segment_is_400(srv):
    fid = make_flow(srv)
    post(srv, fid, {"object_id": "x", "timerange": "nope", "get_urls": EXT}, status=400)
    assert ranges(srv, fid) == []


def test_overlap(srv):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_10:0)"))
    state = flow_state(srv, fid)
    for tr in ("[5:0_15:0)", "[0:0_10:0)", "[9:999999999_20:0)", "[-5:0_0:1)", "[2:0_3:0)",
               "[-5:0_20:0)", "[0:0]", "[9:0]"):
        body = check_error(srv.post(f"/flows/{fid}/segments", json=ext_seg(tr)), 400)
        assert "overlap" in body["summary"], body
    post(srv, fid, ext_seg("[10:0_20:0)"))   # adjacency: [0:0_10:0) + [10:0_20:0)
    post(srv, fid, ext_seg("[-5:0_0:0)"))    # and the other side
    assert ranges(srv, fid) == ["[-5:0_0:0)", "[0:0_10:0)", "[10:0_20:0)"]
    assert flow_state(srv, fid)[0] == "[-5:0_20:0)"
    assert flow_state(srv, fid)[1] >= state[1]


def test_inclusive_end_touching(srv):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_10:0]"))
    post(srv, fid, ext_seg("[10:0_20:0)"), status=400)
    post(srv, fid, ext_seg("(10:0_20:0)"), status=400)  # a '(' start is refused anyway
    post(srv, fid, ext_seg("[10:1_20:0)"))
    assert ranges(srv, fid) == ["[0:0_10:0]", "[10:1_20:0)"]


def test_overlap_within_one_array(srv):
    fid = make_flow(srv)
    r = post(srv, fid, [ext_seg("[0:0_10:0)", "a"), ext_seg("[5:0_15:0)", "b"),
                        ext_seg("[10:0_20:0)", "c"), ext_seg("[19:0_21:0)", "d")], status=200)
    assert failures(r) == [("b", "[5:0_15:0)"), ("d", "[19:0_21:0)")]
    assert ranges(srv, fid) == ["[0:0_10:0)", "[10:0_20:0)"]
    post(srv, fid, [ext_seg("[30:0_40:0]"), ext_seg("[40:0_50:0)")], status=200)


@pytest.mark.parametrize("tr", ["", "()", "_", "[0:0_", "_10:0)", "[5:0_1:0)", "(5:0)",
                                "[0:0_0:0)", "(0:0_10:0)", "(0:0_0:1)", "[a_b)", "garbage",
                                "0:0_10:0)x", "[1:0_2:0)_3:0)",
                                "[99999999999999999999:0_1:0)"])
def test_bad_timeranges(srv, tr):
    fid = make_flow(srv)
    post(srv, fid, ext_seg(tr), status=400)
    r = post(srv, fid, [ext_seg("[100:0_101:0)"), ext_seg(tr, "bad")], status=200)
    # The failure echoes the timerange only when it is one (the schema's pattern).
    assert failures(r) in ([("bad", tr)], [("bad", None)])
    assert ranges(srv, fid) == ["[100:0_101:0)"]


@pytest.mark.parametrize("tr", ["[5:0]", "5:0", "[5:0_5:0]", "[0:0_10:0)", "0:0_10:0",
                                "[-10:0_-5:0)", "[1:5_1:6)"])
def test_good_timeranges(srv, tr):
    fid = make_flow(srv)
    post(srv, fid, ext_seg(tr))
    assert len(ranges(srv, fid)) == 1


@pytest.mark.parametrize("member,value,ok", [
    ("ts_offset", "-1:0", True), ("ts_offset", "0:0", True), ("ts_offset", "1:5", True),
    ("ts_offset", "abc", False), ("ts_offset", 5, False), ("ts_offset", None, False),
    ("last_duration", "0:40000000", True), ("last_duration", "-0:1", False),
    ("last_duration", "-1:0", False), ("last_duration", "x", False), ("last_duration", 1, False),
    ("sample_offset", 0, True), ("sample_offset", 7, True), ("sample_offset", -1, False),
    ("sample_offset", 1.5, False), ("sample_offset", "1", False), ("sample_offset", True, False),
    ("sample_count", 0, True), ("sample_count", 2**40, True), ("sample_count", -3, False),
    ("sample_count", "5", False), ("sample_count", None, False),
    ("key_frame_count", 1, True), ("key_frame_count", -1, False), ("key_frame_count", 2.0, False),
])
def test_optional_members(srv, member, value, ok):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_1:0)", **{member: value}), status=201 if ok else 400)
    got = segs(srv, fid)
    if ok:
        assert got[0][member] == value or (member == "ts_offset" and value == "-1:0")
    else:
        assert got == []


def test_negative_ts_offset_round_trip(srv):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_1:0)", ts_offset="-1:0"))
    assert segs(srv, fid)[0]["ts_offset"] == "-1:0"


def test_object_rules(srv):
    fid, other = make_flow(srv), make_flow(srv)
    mine = allocate_uploaded(srv, fid)[0]["object_id"]
    theirs = allocate_uploaded(srv, other)[0]["object_id"]
    # Allocated for another flow and never registered: 400, also with get_urls.
    body = check_error(srv.post(f"/flows/{fid}/segments",
                                json={"object_id": theirs, "timerange": "[0:0_1:0)"}), 400)
    assert "another flow" in body["summary"]
    post(srv, fid, {"object_id": theirs, "timerange": "[0:0_1:0)", "get_urls": EXT}, status=400)
    # Unknown object: 400 without get_urls, accepted as uncontrolled with them.
    unknown = "unknown/" + new_id()
    post(srv, fid, {"object_id": unknown, "timerange": "[0:0_1:0)"}, status=400)
    post(srv, fid, {"object_id": unknown, "timerange": "[0:0_1:0)", "get_urls": []},
         status=400)
    post(srv, fid, {"object_id": unknown, "timerange": "[0:0_1:0)", "get_urls": EXT})
    post(srv, fid, {"object_id": mine, "timerange": "[1:0_2:0)"})
    # Once registered, any flow may reuse either, even without get_urls.
    post(srv, other, {"object_id": mine, "timerange": "[100:0_101:0)", "ts_offset": "99:0"})
    post(srv, other, {"object_id": unknown, "timerange": "[101:0_102:0)"})
    # ...and the owner still registers its own object afterwards.
    post(srv, other, {"object_id": theirs, "timerange": "[0:0_1:0)"})
    # And the same object twice in one flow.
    post(srv, fid, {"object_id": mine, "timerange": "[2:0_3:0)", "sample_offset": 25})
    assert [s["object_id"] for s in segs(srv, other)] == [theirs, mine, unknown]


# ---- the upload check (verify_uploads) -----------------------------------------------------------

NOT_UPLOADED = "has not been uploaded to storage backend 'local' yet"


def local_path(srv, obj):
    """Where the built-in store keeps an allocated object's bytes."""
    key = urllib.parse.urlsplit(obj["put_url"]["url"]).path.split("/_objects/", 1)[1]
    return srv.data_dir / "objects" / key


def test_unuploaded_object_is_refused(srv):
    fid = make_flow(srv)
    (obj,) = allocate(srv, fid)
    oid = obj["object_id"]
    before = flow_state(srv, fid)
    body = check_error(srv.post(f"/flows/{fid}/segments",
                                json={"object_id": oid, "timerange": "[0:0_1:0)"}), 400)
    assert body["type"] == "ValidationError"
    assert f"object '{oid}' {NOT_UPLOADED}: PUT its bytes to the put_url" in body["summary"]
    assert ranges(srv, fid) == [] and flow_state(srv, fid) == before
    check_error(srv.get(f"/objects/{urllib.parse.quote(oid, safe='')}"), 404)
    upload(srv, obj)
    post(srv, fid, {"object_id": oid, "timerange": "[0:0_1:0)"})
    assert ranges(srv, fid) == ["[0:0_1:0)"]


def test_unuploaded_object_with_a_long_id(srv):
    """The summary quotes the start of a long id (cut between characters), not nothing."""
    fid = make_flow(srv)
    oid = "\u00e9" * 511 + "x"  # 1023 bytes
    allocate(srv, fid, object_ids=[oid])
    r = post(srv, fid, [{"object_id": oid, "timerange": "[0:0_1:0)"}], status=200)
    summary = r.json()["failed_segments"][0]["error"]["summary"]
    assert summary.startswith("object '" + "\u00e9" * 200 + "...' " + NOT_UPLOADED), summary


def test_bulk_with_an_unuploaded_object(srv):
    fid = make_flow(srv)
    up, down = allocate(srv, fid, 2)
    upload(srv, up)
    body = [{"object_id": up["object_id"], "timerange": "[0:0_1:0)"},
            {"object_id": down["object_id"], "timerange": "[1:0_2:0)"},
            {"object_id": down["object_id"], "timerange": "[2:0_3:0)"},
            ext_seg("[3:0_4:0)", "ext-" + new_id()),
            {"object_id": up["object_id"], "timerange": "[4:0_5:0)", "sample_offset": 1}]
    r = post(srv, fid, body, status=200)
    assert failures(r) == [(down["object_id"], "[1:0_2:0)"), (down["object_id"], "[2:0_3:0)")]
    for f in r.json()["failed_segments"]:
        assert f["error"]["type"] == "ValidationError"
        assert f"object '{down['object_id']}' {NOT_UPLOADED}" in f["error"]["summary"]
    assert [(g["object_id"], g["timerange"]) for g in segs(srv, fid)] == [
        (body[0]["object_id"], "[0:0_1:0)"), (body[3]["object_id"], "[3:0_4:0)"),
        (body[4]["object_id"], "[4:0_5:0)")]
    upload(srv, down)
    post(srv, fid, body[1:3])
    assert len(ranges(srv, fid)) == 5


def test_unuploaded_objects_with_odd_ids(srv):
    """Ids are any strings: none may confuse the store's lookup (PostgreSQL: a text[] literal)."""
    fid = make_flow(srv)
    ids = ['q"uote', "back\\slash", "com,ma", "{brace}", "sp ace", " ", '"},{"x', "NULL",
           '\\"', "a}", "{", '\\', "x\\,y"]
    objs = allocate(srv, fid, object_ids=ids)
    assert [o["object_id"] for o in objs] == ids
    for o in objs[::2]:
        upload(srv, o)
    r = post(srv, fid, [{"object_id": oid, "timerange": f"[{i}:0_{i + 1}:0)"}
                        for i, oid in enumerate(ids)], status=200)
    assert failures(r) == [(oid, f"[{i}:0_{i + 1}:0)") for i, oid in enumerate(ids) if i % 2]
    assert [g["object_id"] for g in segs(srv, fid)] == ids[::2]


def test_bulk_of_many_objects(srv):
    """Every other object uploaded, each used by two segments of one request."""
    fid = make_flow(srv)
    objs = allocate(srv, fid, 40)
    for o in objs[::2]:
        upload(srv, o)
    r = post(srv, fid, [{"object_id": objs[i % 40]["object_id"], "timerange": f"[{i}:0_{i + 1}:0)"}
                        for i in range(80)], status=200)
    assert failures(r) == [(objs[i % 40]["object_id"], f"[{i}:0_{i + 1}:0)")
                           for i in range(80) if i % 2]
    assert ranges(srv, fid, {"limit": "50"}) == [f"[{i}:0_{i + 1}:0)" for i in range(0, 80, 2)]


def test_registered_objects_are_not_checked_again(srv):
    """Reuse by reference: an object a segment registered once is not looked for again, by any
    flow, even when its bytes went away since."""
    fid, other = make_flow(srv), make_flow(srv)
    (obj,) = allocate_uploaded(srv, fid)
    post(srv, fid, {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
    os.unlink(local_path(srv, obj))
    post(srv, other, {"object_id": obj["object_id"], "timerange": "[5:0_6:0)", "ts_offset": "5:0"})
    post(srv, fid, {"object_id": obj["object_id"], "timerange": "[1:0_2:0)"})


def test_unuploaded_object_of_another_flow_keeps_its_answer(srv):
    fid, other = make_flow(srv), make_flow(srv)
    (theirs,) = allocate(srv, other)
    body = check_error(srv.post(f"/flows/{fid}/segments",
                                json={"object_id": theirs["object_id"], "timerange": "[0:0_1:0)"}),
                       400)
    assert "another flow" in body["summary"] and "uploaded" not in body["summary"], body


def test_flow_errors_come_before_the_upload_check(srv):
    fid = make_flow(srv)
    (obj,) = allocate(srv, fid)
    assert srv.put(f"/flows/{fid}/read_only", json=True).status_code == 204
    check_error(srv.post(f"/flows/{fid}/segments",
                         json={"object_id": obj["object_id"], "timerange": "[0:0_1:0)"}), 403)


def test_verify_uploads_false(make_server):
    srv = make_server(args=["--verify-uploads", "false"])
    fid = make_flow(srv)
    (obj,) = allocate(srv, fid)
    post(srv, fid, {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
    (urls,) = urls_of(srv, fid)
    check_error(srv.session.get(urls[0]["url"]), 404)


@pytest.mark.parametrize("urls", [
    [{"url": "http://x/y", "label": "local"}], [{"url": "http://x/y", "presigned": True}],
    [{"url": "http://x/y", "controlled": False}],
    [{"url": "http://x/y", "storage_id": new_id()}], [{"label": "a"}], [{"url": 5}],
    [{"url": ""}], ["http://x/y"], {"url": "http://x/y"}, "http://x/y",
    [{"url": "http://x/y", "label": 5}], [{"url": "http://x/y"}, {"url": "http://x/z",
                                                                  "label": "local"}]])
def test_bad_client_get_urls(srv, urls):
    fid = make_flow(srv)
    post(srv, fid, {"object_id": "e-" + new_id(), "timerange": "[0:0_1:0)", "get_urls": urls},
         status=400)
    assert segs(srv, fid) == []


def test_backend_label_is_reserved_whatever_it_is(make_server):
    s = make_server(args=["--local-store-label", "my store"])
    fid = make_flow(s)
    post(s, fid, ext_seg("[0:0_1:0)", get_urls=[{"url": "http://x", "label": "my store"}]),
         status=400)
    post(s, fid, ext_seg("[0:0_1:0)", get_urls=[{"url": "http://x", "label": "local"}]))


def test_flow_level_errors(srv):
    ro, plain = make_flow(srv), make_flow(srv, container=None)
    assert srv.put(f"/flows/{ro}/read_only", json=True).status_code == 204
    unknown = new_id()
    good, bad = ext_seg("[0:0_1:0)"), {"object_id": "x", "timerange": "bad"}
    for body in (good, [good], [], [bad], bad):
        post(srv, ro, body, status=403)
        post(srv, plain, body, status=400)
        post(srv, unknown, body, status=404)
    for fid in ("not-a-uuid", unknown.upper()):
        post(srv, fid, good, status=404)
    for f in (ro, plain):
        assert segs(srv, f) == []
    assert srv.put(f"/flows/{ro}/read_only", json=False).status_code == 204
    post(srv, ro, good)


def test_bad_bodies(srv):
    fid = make_flow(srv)
    for raw in (b"5", b'"x"', b"null", b"true", b"{", b"[", b"[1,]"):
        check_error(srv.post(f"/flows/{fid}/segments", data=raw, headers=JSON_CT), 400)
    check_error(srv.post(f"/flows/{fid}/segments", data=b"", headers=JSON_CT), 400)
    check_error(srv.post(f"/flows/{fid}/segments", data=b"{}",
                         headers={"Content-Type": "text/plain"}), 400)
    post(srv, fid, [])  # an empty array stores nothing, successfully
    assert segs(srv, fid) == []


@pytest.mark.parametrize("raw", [
    b'{"object_id":"o","timerange":"[0:0_1:0)","sample_count":9223372036854775808}',
    b'{"object_id":"o","timerange":"[0:0_1:0)","sample_offset":-9223372036854775809}',
    b'{"object_id":"o","timerange":"[0:0_1:0)","key_frame_count":NaN}',
    b'{"object_id":"o\\u0000x","timerange":"[0:0_1:0)"}',
    b'[{"object_id":"o","timerange":"[0:0_1:0)"},{"object_id":"p","timerange":"[1:0_2:0)",'
    b'"sample_count":18446744073709551616}]',
    b'{"object_id":"o","timerange":"[0:0_1:0)","get_urls":[{"url":"http://x/\\u0000"}]}',
])
def test_values_that_cannot_be_kept(srv, raw):
    fid = make_flow(srv)
    # Each item would be accepted (an uncontrolled object) but for the one value.
    raw = raw.replace(b'"o"', b'"ext-' + new_id().encode() + b'"')
    raw = raw.replace(b'"p"', b'"ext-' + new_id().encode() + b'"')
    if b"get_urls" not in raw:
        raw = raw.replace(b'"timerange"', b'"get_urls":[{"url":"http://x"}],"timerange"')
    check_error(srv.post(f"/flows/{fid}/segments", data=raw, headers=JSON_CT), 400)
    assert segs(srv, fid) == []


def test_concurrent_overlapping_posts(srv):
    import threading
    import requests
    fid = make_flow(srv)
    codes = []

    def go(i):
        with requests.Session() as s:
            codes.append(s.post(f"{srv.url}/flows/{fid}/segments",
                                json=ext_seg(f"[{i}:0_{i + 10}:0)"), timeout=30).status_code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [400] * 9, codes
    assert len(segs(srv, fid)) == 1


def test_empty_array_does_not_touch_the_flow(srv):
    fid = make_flow(srv)
    post(srv, fid, ext_seg("[0:0_1:0)"))
    before = flow_state(srv, fid)
    time.sleep(0.01)
    post(srv, fid, [])
    post(srv, fid, ext_seg("[0:0_1:0)"), status=400)
    post(srv, fid, [ext_seg("[0:0_1:0)")], status=200)
    assert flow_state(srv, fid) == before


def test_flow_timerange_and_segments_updated_follow(srv):
    fid = make_flow(srv)
    tr, upd = flow_state(srv, fid)
    assert tr == "()"
    steps = [(ext_seg("[10:0_20:0)"), "[10:0_20:0)"), (ext_seg("[30:0_40:0]"), "[10:0_40:0]"),
             ([ext_seg("[0:0_5:0)"), ext_seg("[50:0]")], "[0:0_50:0]")]
    for body, want in steps:
        time.sleep(0.002)
        post(srv, fid, body)
        tr2, upd2 = flow_state(srv, fid)
        assert tr2 == want
        assert upd2 and (upd is None or upd2 > upd), (upd, upd2)
        upd = upd2


# ---- GET ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(srv):
    """A flow with 20 one-second segments [0:0_1:0) ... [19:0_20:0), then [20:0] and a gap."""
    fid = make_flow(srv)
    body = [ext_seg(f"[{i}:0_{i + 1}:0)", f"obj/{i % 3}") for i in range(20)]
    body += [ext_seg("[20:0]", "obj/inst"), ext_seg("[30:0_31:0)", "obj/gap")]
    post(srv, fid, body)
    return fid


def test_ordering_and_clusivity(srv):
    fid = make_flow(srv)
    post(srv, fid, [ext_seg("[2:0]"), ext_seg("[1:0_2:0)"), ext_seg("[2:1_3:0)")])
    assert ranges(srv, fid) == ["[1:0_2:0)", "[2:0]", "[2:1_3:0)"]
    r = listing(srv, fid, {"reverse_order": "true"})
    assert [s["timerange"] for s in r.json()] == ["[2:1_3:0)", "[2:0]", "[1:0_2:0)"]
    assert r.headers["X-Paging-Reverse-Order"] == "true"
    assert r.headers["X-Paging-Timerange"] == "[1:0_3:0)"
    r = listing(srv, fid, {"reverse_order": "false"})
    assert r.headers["X-Paging-Reverse-Order"] == "false"


@pytest.mark.parametrize("query,want", [
    ("[5:0_7:0)", ["[5:0_6:0)", "[6:0_7:0)"]),
    ("[5:0_7:0]", ["[5:0_6:0)", "[6:0_7:0)", "[7:0_8:0)"]),
    ("(5:0_7:0)", ["[5:0_6:0)", "[6:0_7:0)"]),
    ("[4:999999999_5:0)", ["[4:0_5:0)"]),
    ("(4:999999999_5:0]", ["[5:0_6:0)"]),
    ("[5:500000000_6:500000000)", ["[5:0_6:0)", "[6:0_7:0)"]),
    ("[19:500000000_25:0)", ["[19:0_20:0)", "[20:0]"]),
    ("[20:0]", ["[20:0]"]), ("20:0", ["[20:0]"]), ("(20:0_30:0)", []),
    ("[21:0_30:0)", []), ("[21:0_30:0]", ["[30:0_31:0)"]), ("[31:0_40:0)", []),
    ("_0:1)", ["[0:0_1:0)"]), ("_0:0)", []), ("[30:500000000_", ["[30:0_31:0)"]),
    ("()", []), ("[7:0_3:0)", []), ("(5:0)", []),
])
def test_timerange_filter(srv, filled, query, want):
    r = listing(srv, filled, {"timerange": query})
    assert [s["timerange"] for s in r.json()] == want
    if want:
        assert r.headers["X-Paging-Timerange"] == (want[0] if len(want) == 1
                                                   else hull(want[0], want[-1]))
    else:
        assert r.headers["X-Paging-Timerange"] == "()"
    rev = listing(srv, filled, {"timerange": query, "reverse_order": "true"})
    assert [s["timerange"] for s in rev.json()] == want[::-1]
    assert rev.headers["X-Paging-Timerange"] == r.headers["X-Paging-Timerange"]


def test_no_filter_lists_everything(srv, filled):
    for q in (None, {"timerange": "_"}):
        assert len(segs(srv, filled, q)) == 22


def test_object_id_filter(srv, filled):
    got = segs(srv, filled, {"object_id": "obj/1"})
    assert [s["timerange"] for s in got] == [f"[{i}:0_{i + 1}:0)" for i in range(1, 20, 3)]
    r = twin(srv, f"/flows/{filled}/segments?object_id=obj%2F1")
    assert r.json() == got
    assert segs(srv, filled, {"object_id": "obj/1", "timerange": "[5:0_9:0)"}) == got[2:3]
    assert segs(srv, filled, {"object_id": "obj"}) == []
    assert segs(srv, filled, {"object_id": ""}) == []
    fid = make_flow(srv)
    odd = "a b/c&d=e?f#g%h+i"
    post(srv, fid, ext_seg("[0:0_1:0)", odd))
    got = segs(srv, fid, {"object_id": odd})
    assert [s["object_id"] for s in got] == [odd]


def test_unknown_and_malformed_flow(srv):
    r = listing(srv, new_id())
    assert r.json() == [] and r.headers["X-Paging-Timerange"] == "()"
    assert r.headers["X-Paging-Count"] == "0"
    for bad in ("not-a-uuid", new_id().upper()):
        listing(srv, bad, status=404)
    listing(srv, new_id(), {"timerange": "bad"}, status=400)


@pytest.mark.parametrize("params", [
    {"timerange": "garbage"}, {"timerange": "[0:0_x"}, {"timerange": "[1:0_2:0)_3:0)"}, {"reverse_order": "maybe"},
    {"reverse_order": ""}, {"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"limit": "1.5"},
    {"unknown": "1"}, {"verbose_storage": "yes"}, {"presigned": "1"},
    {"accept_get_urls": "a,,b"}, {"accept_get_urls": ",a"}, {"accept_get_urls": "a,"},
    {"accept_storage_ids": "abc"}, {"accept_storage_ids": "ABC"},
    {"page": "abc"}, {"page": ""}, {"page": "!!!"},
])
def test_bad_queries(srv, filled, params):
    if params.get("accept_storage_ids") == "ABC":
        params = {"accept_storage_ids": backend(srv)["id"].upper()}
    listing(srv, filled, params, status=400)


def test_repeated_parameter(srv, filled):
    r = twin(srv, f"/flows/{filled}/segments?timerange=_&timerange=_")
    check_error(r, 400)


def page_all(srv, fid, params):
    """Follow Link to the end; returns (pages of timeranges, responses)."""
    url = srv.url + f"/flows/{fid}/segments?" + urllib.parse.urlencode(params)
    pages, resps = [], []
    while True:
        r = twin(srv, url)
        assert r.status_code == 200, r.text
        body = r.json()
        for s in body:
            validate(s, "flow-segment.json")
        pages.append([s["timerange"] for s in body])
        resps.append(r)
        assert r.headers["X-Paging-Count"] == str(len(body))
        assert r.headers["X-Paging-Reverse-Order"] == params.get("reverse_order", "false")
        link = r.headers.get("Link")
        if not link:
            assert "X-Paging-NextKey" not in r.headers
            return pages, resps
        m = LINK_RE.match(link)
        assert m, link
        url = m.group(1)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert q["page"] == r.headers["X-Paging-NextKey"]
        for k, v in params.items():
            assert q[k] == v, (k, q)
        assert len(pages) < 100


@pytest.mark.parametrize("reverse", ["false", "true"])
@pytest.mark.parametrize("limit", [1, 3, 7, 22, 50])
def test_paging(srv, filled, reverse, limit):
    pages, resps = page_all(srv, filled, {"limit": str(limit), "reverse_order": reverse})
    flat = [t for p in pages for t in p]
    want = ranges(srv, filled)
    assert flat == (want[::-1] if reverse == "true" else want)
    assert all(len(p) == limit for p in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    for p, r in zip(pages, resps):
        assert r.headers["X-Paging-Limit"] == str(limit)
        lo, hi = (p[0], p[-1]) if reverse == "false" else (p[-1], p[0])
        if len(p) == 1:
            assert r.headers["X-Paging-Timerange"] == p[0]
        else:
            assert r.headers["X-Paging-Timerange"] == hull(lo, hi), (p, r.headers)


def test_paging_with_filters(srv, filled):
    params = {"limit": "2", "timerange": "(4:500000000_9:0)", "object_id": "obj/1"}
    pages, _ = page_all(srv, filled, params)
    assert [t for p in pages for t in p] == ["[4:0_5:0)", "[7:0_8:0)"]
    params["reverse_order"] = "true"
    pages, _ = page_all(srv, filled, params)
    assert [t for p in pages for t in p] == ["[7:0_8:0)", "[4:0_5:0)"]
    pages, _ = page_all(srv, filled, {"limit": "4", "timerange": "[15:0_40:0)"})
    assert [t for p in pages for t in p] == ["[15:0_16:0)", "[16:0_17:0)", "[17:0_18:0)",
                                             "[18:0_19:0)", "[19:0_20:0)", "[20:0]",
                                             "[30:0_31:0)"]


def test_limit_clamped_and_exact_pages(srv, filled):
    r = listing(srv, filled, {"limit": "1000"})
    assert r.headers["X-Paging-Limit"] == "50"
    assert len(r.json()) == 22 and "Link" not in r.headers
    # Exactly limit items left: no next page is announced.
    r = listing(srv, filled, {"limit": "22"})
    assert "Link" not in r.headers and "X-Paging-NextKey" not in r.headers
    r = listing(srv, filled)
    assert r.headers["X-Paging-Limit"] == "30"


def test_paging_sees_inserts_between_pages(srv):
    fid = make_flow(srv)
    post(srv, fid, [ext_seg(f"[{i}:0_{i + 1}:0)") for i in range(0, 10, 2)])
    r = listing(srv, fid, {"limit": "2"})
    assert [s["timerange"] for s in r.json()] == ["[0:0_1:0)", "[2:0_3:0)"]
    post(srv, fid, [ext_seg("[1:0_2:0)"), ext_seg("[5:0_6:0)")])
    url = LINK_RE.match(r.headers["Link"]).group(1)
    rest = []
    while url:
        r = twin(srv, url)
        rest += [s["timerange"] for s in r.json()]
        url = LINK_RE.match(r.headers["Link"]).group(1) if "Link" in r.headers else None
    assert rest == ["[4:0_5:0)", "[5:0_6:0)", "[6:0_7:0)", "[8:0_9:0)"]


def test_forged_page_keys(srv, filled):
    r = listing(srv, filled, {"limit": "2"})
    key = r.headers["X-Paging-NextKey"]
    # A key of the ascending listing does not page the reverse one, nor /flows.
    listing(srv, filled, {"limit": "2", "page": key, "reverse_order": "true"}, status=400)
    check_error(srv.get("/flows", params={"page": key}), 400)
    flows_key = srv.get("/flows", params={"limit": "1"}).headers.get("X-Paging-NextKey")
    if flows_key:
        listing(srv, filled, {"page": flows_key}, status=400)
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    for forged in (key[:-1], key + "A", key + "=", base64.urlsafe_b64encode(
            raw.replace(b"segments", b"segmentz")).decode().rstrip("="),
            base64.urlsafe_b64encode(b"segments:1").decode().rstrip("=")):
        if forged == key:
            continue
        listing(srv, filled, {"limit": "2", "page": forged}, status=400)
    # The real key still works, and on another flow it is just a position.
    assert len(segs(srv, filled, {"limit": "2", "page": key})) == 2


# ---- get_urls -----------------------------------------------------------------------------------

# The media fixture's second URL: unlabelled under 7.0; 8.2 requires a label on every URL a
# client gives (change 24).
B_URL = {"url": "http://b.example/1"} | ({"label": "b"} if API_VERSION == "8.2" else {})


@pytest.fixture(scope="module")
def media(srv):
    """A flow with one controlled segment (uploaded) and one uncontrolled, plus both kinds of
    URL on a third segment that reuses... no: an uncontrolled segment with two labelled URLs."""
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    data = os.urandom(3000)
    r = srv.session.put(obj["put_url"]["url"], data=data,
                        headers={"Content-Type": obj["put_url"]["content-type"]})
    assert r.status_code == 200, r.text
    post(srv, fid, [{"object_id": obj["object_id"], "timerange": "[0:0_1:0)"},
                    {"object_id": "ext/1", "timerange": "[1:0_2:0)",
                     "get_urls": [{"url": "http://a.example/1", "label": "other"}, B_URL]}])
    return fid, obj["object_id"], data


def urls_of(srv, fid, params=None):
    return [s.get("get_urls") for s in segs(srv, fid, params)]


def test_get_urls_default(srv, media):
    fid, oid, data = media
    controlled, uncontrolled = urls_of(srv, fid)
    assert len(controlled) == 1
    c = controlled[0]
    assert set(c) == {"url", "label", "presigned"}
    assert c["label"] == "local" and c["presigned"] is True
    assert c["url"].startswith(srv.api + "/_objects/")
    assert uncontrolled == [{"url": "http://a.example/1", "label": "other"}, B_URL]


def test_round_trip_bytes(srv, media):
    fid, oid, data = media
    got = segs(srv, fid, {"object_id": oid})
    url = got[0]["get_urls"][0]["url"]
    r = srv.session.get(url)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["Content-Type"] == "video/mp2t"


def test_verbose_storage(srv, media):
    fid, oid, data = media
    b = backend(srv)
    controlled, uncontrolled = urls_of(srv, fid, {"verbose_storage": "true"})
    c = controlled[0]
    assert c["storage_id"] == b["id"] and c["controlled"] is True
    assert c["store_type"] == b["store_type"] == "http_object_store"
    assert c["provider"] == b["provider"] and c["store_product"] == b["store_product"]
    assert c["label"] == b["label"] == "local" and c["presigned"] is True
    for u in uncontrolled:
        assert u.get("controlled") is False and "storage_id" not in u
    # Signed URLs carry an expiry in whole seconds: compare them without their query.
    def unsigned(urls):
        return [[dict(u, url=u["url"].split("?")[0]) for u in seg] for seg in urls]
    assert unsigned(urls_of(srv, fid, {"verbose_storage": "false"})) == unsigned(urls_of(srv, fid))


@pytest.mark.parametrize("params,want", [
    ({"accept_get_urls": ""}, [None, None]),
    ({"accept_get_urls": "local"}, [["local"], None]),
    ({"accept_get_urls": "other"}, [None, ["other"]]),
    ({"accept_get_urls": "other,local"}, [["local"], ["other"]]),
    ({"accept_get_urls": "nothing"}, [None, None]),
    ({"presigned": "true"}, [["local"], None]),
    ({"presigned": "false"}, [None, ["other", B_URL.get("label")]]),
    ({"accept_storage_ids": ""}, [["local"], ["other", B_URL.get("label")]]),
    ({"accept_storage_ids": "BACKEND"}, [["local"], None]),
    ({"accept_storage_ids": "OTHER"}, [None, None]),
    ({"accept_storage_ids": "OTHER,BACKEND"}, [["local"], None]),
    ({"accept_get_urls": "local", "presigned": "false"}, [None, None]),
    ({"accept_get_urls": "other", "presigned": "false"}, [None, ["other"]]),
    ({"accept_get_urls": "local", "accept_storage_ids": "BACKEND", "presigned": "true"},
     [["local"], None]),
])
def test_get_urls_filters(srv, media, params, want):
    fid = media[0]
    bid = backend(srv)["id"]
    other = "5b7b9f6a-0c5e-4b8e-9f0a-1c2d3e4f5a6b"
    params = {k: v.replace("BACKEND", bid).replace("OTHER", other) for k, v in params.items()}
    got = [None if u is None else [x.get("label") for x in u] for u in urls_of(srv, fid, params)]
    got = [None if g == [] else g for g in got]
    assert got == want
    # The filters never drop segments.
    assert len(segs(srv, fid, params)) == 2


def test_get_urls_in_link(srv, media):
    fid = media[0]
    params = {"limit": "1", "accept_get_urls": "other", "verbose_storage": "true",
              "presigned": "false"}
    pages, _ = page_all(srv, fid, params)
    assert len(pages) == 2


def test_objects_with_missing_bytes_still_list(srv):
    """Bytes that went away after registration (removed behind the server's back): the
    segment still lists, its get_url answers 404."""
    fid = make_flow(srv)
    (o,) = allocate_uploaded(srv, fid)
    obj = o["object_id"]
    post(srv, fid, {"object_id": obj, "timerange": "[0:0_1:0)"})
    key = urllib.parse.urlsplit(o["put_url"]["url"]).path.split("/_objects/", 1)[1]
    os.unlink(srv.data_dir / "objects" / key)
    (urls,) = urls_of(srv, fid)
    assert urls[0]["label"] == "local"
    check_error(srv.session.get(urls[0]["url"]), 404)


def test_full_round_trip(srv):
    """Allocate, upload, register, list by time, download through get_urls, compare."""
    fid = make_flow(srv)
    objs = allocate(srv, fid, 5)
    blobs = []
    for i, o in enumerate(objs):
        blob = os.urandom(500 + i)
        blobs.append(blob)
        r = srv.session.put(o["put_url"]["url"], data=blob,
                            headers={"Content-Type": o["put_url"]["content-type"]})
        assert r.status_code == 200
    post(srv, fid, [{"object_id": o["object_id"], "timerange": f"[{2 * i}:0_{2 * i + 2}:0)"}
                    for i, o in enumerate(objs)])
    got = segs(srv, fid, {"timerange": "[3:0_7:0)"})
    assert [s["object_id"] for s in got] == [o["object_id"] for o in objs[1:4]]
    for s, blob in zip(got, blobs[1:4]):
        r = srv.session.get(s["get_urls"][0]["url"])
        assert r.status_code == 200 and r.content == blob
