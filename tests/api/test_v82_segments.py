# SPDX-License-Identifier: Apache-2.0
"""Segments under TAMS 8.2 and how 7.0 sees them (docs/tams-8.2-changes.md, 22-27): labelled
get_urls, object_timerange, ordering, negative ts_offset. Each test writes through one version
and reads through both, validating every body against its version's schemas."""
import json
import subprocess
import time
import uuid

import pytest

from conftest import ON_PG, check_error, db_scalar

RETAIN = ["--soft-delete-retention", "3600"]

VIDEO = "urn:x-nmos:format:video"


def new_id():
    return str(uuid.uuid4())


def make_flow(view, rate=None, container="video/mp2t"):
    ep = {"frame_width": 1920, "frame_height": 1080}
    if rate:
        ep["frame_rate"] = {"numerator": rate[0], "denominator": rate[1]}
    elif getattr(view, "version", "7.0") == "8.2":
        ep["vfr"] = True  # 8.2 needs a frame_rate unless the rate is variable (change 14)
    doc = {"id": new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "container": container, "essence_parameters": ep}
    r = view.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def segments(view, fid, params=None):
    r = view.get(f"/flows/{fid}/segments", params=params or {})
    assert r.status_code == 200, r.text
    body = r.json()
    for s in body:
        view.validate(s, "flow-segment.json")
    return body


def post(view, fid, body, status=201):
    r = view.post(f"/flows/{fid}/segments", json=body)
    assert r.status_code == status, r.text
    return r


# ---- 24: get_urls labels ----------------------------------------------------------------------

def test_v82_post_needs_a_label(v82):
    fid = make_flow(v82)
    body = check_error(v82.post(f"/flows/{fid}/segments", json={
        "object_id": "ext-1", "timerange": "[0:0_1:0)",
        "get_urls": [{"url": "http://a.example/1"}]}), 400)
    assert "label" in body["summary"]
    assert segments(v82, fid) == []


def test_v82_refuses_a_label_twice(v82):
    fid = make_flow(v82)
    body = check_error(v82.post(f"/flows/{fid}/segments", json={
        "object_id": "ext-1", "timerange": "[0:0_1:0)",
        "get_urls": [{"url": "http://a.example/1", "label": "a"},
                     {"url": "http://b.example/1", "label": "a"}]}), 400)
    assert "twice" in body["summary"]
    assert segments(v82, fid) == []


def test_v70_unlabelled_urls_read_by_v82(v70, v82):
    fid = make_flow(v70)
    post(v70, fid, {"object_id": "ext-1", "timerange": "[0:0_1:0)",
                    "get_urls": [{"url": "http://a.example/1"},
                                 {"url": "http://b.example/1", "label": "client"},
                                 {"url": "http://c.example/1"}]})
    # 7.0 sees what it wrote; 8.2 sees every item labelled, the same on every read.
    assert segments(v70, fid)[0]["get_urls"] == [
        {"url": "http://a.example/1"}, {"url": "http://b.example/1", "label": "client"},
        {"url": "http://c.example/1"}]
    want = [{"url": "http://a.example/1", "label": "client-2"},
            {"url": "http://b.example/1", "label": "client"},
            {"url": "http://c.example/1", "label": "client-3"}]
    assert segments(v82, fid)[0]["get_urls"] == want
    assert segments(v82, fid)[0]["get_urls"] == want
    # The made labels are what 8.2's accept_get_urls filters on; 7.0 cannot name them.
    got = segments(v82, fid, {"accept_get_urls": "client-3"})
    assert got[0]["get_urls"] == [want[2]]
    assert "get_urls" not in segments(v70, fid, {"accept_get_urls": "client-3"})[0]


def test_v82_labelled_urls_read_by_v70(v70, v82):
    fid = make_flow(v82)
    urls = [{"url": "http://a.example/1", "label": "a"}, {"url": "http://b.example/1",
                                                          "label": "b"}]
    post(v82, fid, {"object_id": "ext-1", "timerange": "[0:0_1:0)", "get_urls": urls})
    assert segments(v70, fid)[0]["get_urls"] == urls
    assert segments(v82, fid)[0]["get_urls"] == urls


# ---- 23: object_timerange and the 7.0 sample_offset/sample_count -----------------------------

OTR = {"include_object_timerange": "true"}


def test_v82_object_timerange_read_by_v70_with_rate(v70, v82):
    fid = make_flow(v82, rate=(25, 1))
    # Frames 10..19 of an object of 50 frames, and the whole of another.
    post(v82, fid, [{"object_id": "ext-1", "timerange": "[0:400000000_0:800000000)",
                     "object_timerange": "[0:0_2:0)",
                     "get_urls": [{"url": "http://a.example/1", "label": "a"}]},
                    {"object_id": "ext-2", "timerange": "[1:0_2:0)", "ts_offset": "1:0",
                     "get_urls": [{"url": "http://a.example/2", "label": "a"}]}])
    a, b = segments(v82, fid, OTR)
    assert a["object_timerange"] == "[0:0_2:0)"
    assert b["object_timerange"] == "[0:0_1:0)"  # timerange less ts_offset: the whole object
    assert "sample_offset" not in a and "sample_count" not in a
    assert all("object_timerange" not in s for s in segments(v82, fid))
    a, b = segments(v70, fid)
    assert (a["sample_offset"], a["sample_count"]) == (10, 10)
    assert "sample_offset" not in b and "sample_count" not in b
    assert "object_timerange" not in a


def test_v82_object_timerange_without_rate(v70, v82):
    fid = make_flow(v82)
    post(v82, fid, {"object_id": "ext-1", "timerange": "[0:400000000_0:800000000)",
                    "object_timerange": "[0:0_2:0)",
                    "get_urls": [{"url": "http://a.example/1", "label": "a"}]})
    assert segments(v82, fid, OTR)[0]["object_timerange"] == "[0:0_2:0)"
    # No rate: no exact count of samples to tell 7.0.
    got = segments(v70, fid)[0]
    assert "sample_offset" not in got and "sample_count" not in got


def test_v70_samples_round_trip_with_rate(v70, v82):
    fid = make_flow(v70, rate=(25, 1))
    post(v70, fid, {"object_id": "ext-1", "timerange": "[10:0_10:400000000)", "ts_offset": "9:0",
                    "sample_offset": 25, "sample_count": 10,
                    "get_urls": [{"url": "http://a.example/1"}]})
    got = segments(v70, fid)[0]
    assert (got["sample_offset"], got["sample_count"]) == (25, 10)
    got = segments(v82, fid, OTR)[0]
    # Frame 25 of the object is at 1:0 on its timeline; it holds 35 frames at least.
    assert got["object_timerange"] == "[0:0_1:400000000)"
    assert (got["sample_offset"], got["sample_count"]) == (25, 10)  # 8.2: kept and returned


def test_v70_samples_round_trip_without_rate(v70, v82):
    fid = make_flow(v70)
    post(v70, fid, {"object_id": "ext-1", "timerange": "[10:0_11:0)", "sample_offset": 3,
                    "sample_count": 7, "get_urls": [{"url": "http://a.example/1"}]})
    for view in (v70, v82):
        got = segments(view, fid)[0]
        assert (got["sample_offset"], got["sample_count"]) == (3, 7)


def test_reused_object_shows_its_timerange(v82):
    f1, f2 = make_flow(v82, rate=(25, 1)), make_flow(v82, rate=(25, 1))
    urls = [{"url": "http://a.example/1", "label": "a"}]
    post(v82, f1, {"object_id": "ext-1", "timerange": "[0:0_2:0)",
                   "object_timerange": "[0:0_2:0)", "get_urls": urls})
    # Reused by a second flow for its second half, without object_timerange (as 8.2 asks).
    post(v82, f2, {"object_id": "ext-1", "timerange": "[5:0_6:0)", "ts_offset": "4:0"})
    assert segments(v82, f2, OTR)[0]["object_timerange"] == "[0:0_2:0)"


def test_conflicting_object_timerange_refused(v70, v82):
    """object_timerange is the object's own (8.2 POST segments: "reject requests where
    object_timerange is set to a value that conflicts with the existing Media Object
    metadata"): once known, a segment reusing the object may repeat it or leave it out; anything else is 400 for a single POST and a
    failed_segments item in a list, nothing stored (change 23)."""
    f1, f2 = make_flow(v82, rate=(25, 1)), make_flow(v82, rate=(25, 1))
    urls = [{"url": "http://a.example/1", "label": "a"}]
    post(v82, f1, {"object_id": "ext-1", "timerange": "[0:0_2:0)",
                   "object_timerange": "[0:0_2:0)", "get_urls": urls})
    for otr in ("[0:0_3:0)", "[0:0_2:0]", "[0:0_1:0)", "[1:0_2:0)"):
        r = v82.post(f"/flows/{f2}/segments", json={
            "object_id": "ext-1", "timerange": "[5:0_6:0)", "ts_offset": "5:0",
            "object_timerange": otr})
        body = check_error(r, 400)
        v82.validate(body, "error.json")
        assert "[0:0_2:0)" in body["summary"] and otr in body["summary"], body
    assert segments(v82, f2) == []
    # The same timerange, and none at all: accepted.
    post(v82, f2, {"object_id": "ext-1", "timerange": "[5:0_6:0)", "ts_offset": "5:0",
                   "object_timerange": "[0:0_2:0)"})
    post(v82, f2, {"object_id": "ext-1", "timerange": "[6:0_7:0)", "ts_offset": "5:0"})
    # A list: the conflicting item fails alone.
    r = post(v82, f2, [{"object_id": "ext-1", "timerange": "[7:0_8:0)", "ts_offset": "6:0",
                        "object_timerange": "[0:0_2:0)"},
                       {"object_id": "ext-1", "timerange": "[8:0_9:0)", "ts_offset": "7:0",
                        "object_timerange": "[0:0_9:0)"}], status=200)
    v82.validate(r.json(), "flow-segment-bulk-failure.json")
    failed = r.json()["failed_segments"]
    assert [(f["object_id"], f["timerange"]) for f in failed] == [("ext-1", "[8:0_9:0)")]
    assert [s["timerange"] for s in segments(v82, f2)] == ["[5:0_6:0)", "[6:0_7:0)",
                                                           "[7:0_8:0)"]
    # A new object given two timeranges in one list: the first is the object's.
    r = post(v82, f1, [{"object_id": "ext-2", "timerange": "[2:0_3:0)",
                        "object_timerange": "[0:0_1:0)", "get_urls": urls},
                       {"object_id": "ext-2", "timerange": "[3:0_4:0)", "ts_offset": "3:0",
                        "object_timerange": "[0:0_2:0)"}], status=200)
    assert [f["timerange"] for f in r.json()["failed_segments"]] == ["[3:0_4:0)"]
    assert get_object(v82, "ext-2")["timerange"] == "[0:0_1:0)"
    # 7.0's sample pair says the samples used, not the object's timerange: never a conflict,
    # and never the object's.
    post(v70, f2, {"object_id": "ext-1", "timerange": "[20:0_20:400000000)", "ts_offset": "20:0",
                   "sample_offset": 0, "sample_count": 10})
    assert get_object(v82, "ext-1")["timerange"] == "[0:0_2:0)"
    post(v70, f2, {"object_id": "ext-3", "timerange": "[30:0_30:400000000)", "ts_offset": "30:0",
                   "sample_offset": 0, "sample_count": 10,
                   "get_urls": [{"url": "http://a.example/3"}]})
    post(v82, f1, {"object_id": "ext-3", "timerange": "[10:0_12:0)", "ts_offset": "10:0",
                   "object_timerange": "[0:0_2:0)"})
    assert get_object(v82, "ext-3")["timerange"] == "[0:0_2:0)"


@pytest.mark.parametrize("otr", ["nonsense", "_", "()", "[0:0_", 5])
def test_v82_bad_object_timerange(v82, otr):
    fid = make_flow(v82)
    check_error(v82.post(f"/flows/{fid}/segments", json={
        "object_id": "ext-1", "timerange": "[0:0_1:0)", "object_timerange": otr,
        "get_urls": [{"url": "http://a.example/1", "label": "a"}]}), 400)
    assert segments(v82, fid) == []


def test_include_object_timerange_is_8_2_only(v70, v82):
    fid = make_flow(v82)
    check_error(v70.get(f"/flows/{fid}/segments", params=OTR), 400)
    check_error(v82.get(f"/flows/{fid}/segments",
                        params={"include_object_timerange": "maybe"}), 400)


def test_restored_segments_keep_object_timerange(make_server):
    srv = make_server(args=RETAIN)
    v82 = srv.at("8.2")
    fid = make_flow(v82, rate=(25, 1))
    post(v82, fid, {"object_id": "ext-1", "timerange": "[0:400000000_0:800000000)",
                    "object_timerange": "[0:0_2:0)",
                    "get_urls": [{"url": "http://a.example/1", "label": "a"}]})
    before = segments(v82, fid, OTR)
    assert v82.delete(f"/flows/{fid}/segments").status_code == 204
    assert segments(v82, fid) == []
    entry = [e for e in srv.get("/trash").json() if e["flow_id"] == fid]
    assert len(entry) == 1
    assert srv.post(f"/trash/{entry[0]['id']}/restore").status_code == 204
    assert segments(v82, fid, OTR) == before


# ---- 28: GET /objects/{objectId} ---------------------------------------------------------------

def allocate_uploaded(view, fid, data=b"media bytes"):
    r = view.post(f"/flows/{fid}/storage", json={"limit": 1})
    assert r.status_code == 201, r.text
    obj = r.json()["media_objects"][0]
    put = obj["put_url"]
    r = view.session.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                         timeout=30)
    assert r.status_code == 200, r.text
    return obj["object_id"]


def tagged_flow(view, tags, rate=None):
    fid = make_flow(view, rate=rate)
    for name, value in tags.items():
        assert view.put(f"/flows/{fid}/tags/{name}", json=value).status_code in (200, 201, 204)
    return fid


def get_object(view, oid, params=None, status=200):
    r = view.get(f"/objects/{oid}", params=params or {})
    assert r.status_code == status, r.text
    if status == 200:
        view.validate(r.json(), "object.json")
    return r.json()


def test_v82_object_body(v70, v82):
    fid = make_flow(v82, rate=(25, 1))
    oid = allocate_uploaded(v82, fid)
    post(v82, fid, {"object_id": oid, "timerange": "[10:0_12:0)", "ts_offset": "10:0",
                    "key_frame_count": 2})
    got = get_object(v82, oid)
    assert got["id"] == oid and got["referenced_by_flows"] == [fid]
    assert got["first_referenced_by_flow"] == fid
    assert got["timerange"] == "[0:0_2:0)"  # the segment's, on the object's own timeline
    assert got["key_frame_count"] == 2
    assert [u["label"] for u in got["get_urls"]] == ["local"]
    assert v82.session.get(got["get_urls"][0]["url"], timeout=30).content == b"media bytes"
    # The same filters as a segment's get_urls.
    assert "get_urls" not in get_object(v82, oid, {"accept_get_urls": ""})
    verbose = get_object(v82, oid, {"verbose_storage": "true"})["get_urls"][0]
    assert verbose["controlled"] is True and "storage_id" in verbose
    # 7.0: the body it always had.
    old = get_object(v70, oid)
    assert set(old) == {"id", "referenced_by_flows", "first_referenced_by_flow"}
    check_error(v70.get(f"/objects/{oid}", params={"verbose_storage": "true"}), 400)


def test_v82_object_given_timerange_and_uncontrolled_urls(v82):
    fid = make_flow(v82)
    post(v82, fid, {"object_id": "ext-obj", "timerange": "[5:0_6:0)",
                    "object_timerange": "[0:0_3:0)",
                    "get_urls": [{"url": "http://a.example/1", "label": "a"}]})
    got = get_object(v82, "ext-obj")
    assert got["timerange"] == "[0:0_3:0)"
    assert got["get_urls"] == [{"url": "http://a.example/1", "label": "a"}]
    assert "key_frame_count" not in got


def test_v82_object_flow_tag_filters(v70, v82):
    fa = tagged_flow(v82, {"genre": "news"})
    fb = tagged_flow(v82, {"genre": "sport"})
    fc = tagged_flow(v82, {})
    urls = [{"url": "http://a.example/shared", "label": "a"}]
    for i, fid in enumerate((fa, fb, fc)):
        post(v82, fid, {"object_id": "shared", "timerange": f"[{i}:0_{i + 1}:0)",
                        "get_urls": urls})

    def flows(params):
        return set(get_object(v82, "shared", params)["referenced_by_flows"])

    assert flows({}) == {fa, fb, fc}
    assert flows({"flow_tag.genre": "news"}) == {fa}
    assert flows({"flow_tag_exists.genre": "true"}) == {fa, fb}
    assert flows({"flow_tag_exists.genre": "false"}) == {fc}
    assert flows({"flow_tag.genre": "weather"}) == set()
    # Paged through the filter: one flow a page, every match once.
    seen, pages, params = [], 0, {"flow_tag_exists.genre": "true", "limit": "1"}
    while True:
        pages += 1
        r = v82.get("/objects/shared", params=params)
        assert r.status_code == 200, r.text
        seen += r.json()["referenced_by_flows"]
        if "X-Paging-NextKey" not in r.headers:
            break
        params["page"] = r.headers["X-Paging-NextKey"]
    assert sorted(seen) == sorted([fa, fb]) and pages >= 2
    check_error(v82.get("/objects/shared", params={"flow_tag_exists.genre": "maybe"}), 400)
    check_error(v70.get("/objects/shared", params={"flow_tag.genre": "news"}), 400)


# ---- 26, 27: order, negative ts_offset ------------------------------------------------------

@pytest.mark.parametrize("writer", ["7.0", "8.2"])
def test_order_under_both_versions(server, writer):
    w = server.at(writer)
    fid = make_flow(w)
    urls = [{"url": "http://a.example/1", "label": "a"}]
    # Registered out of order, with an instant right after an exclusive end.
    ranges = ["[3:0_4:0)", "[1:0_2:0)", "[2:0]", "[0:0_1:0)", "(2:0_3:0)"]
    for i, tr in enumerate(ranges):
        r = w.post(f"/flows/{fid}/segments", json={"object_id": f"o{i}", "timerange": tr,
                                                    "get_urls": urls})
        if tr.startswith("("):
            check_error(r, 400)  # segments start inclusively
        else:
            assert r.status_code == 201, r.text
    want = ["[0:0_1:0)", "[1:0_2:0)", "[2:0]", "[3:0_4:0)"]
    for version in ("7.0", "8.2"):
        view = server.at(version)
        assert [s["timerange"] for s in segments(view, fid)] == want
        r = view.get(f"/flows/{fid}/segments", params={"reverse_order": "true"})
        assert [s["timerange"] for s in r.json()] == want[::-1]
        assert r.headers["X-Paging-Reverse-Order"] == "true"
        # Paged in both directions: the same order across pages.
        for rev, expect in (("false", want), ("true", want[::-1])):
            got, params = [], {"limit": "3", "reverse_order": rev}
            while True:
                r = view.get(f"/flows/{fid}/segments", params=params)
                got += [s["timerange"] for s in r.json()]
                if "X-Paging-NextKey" not in r.headers:
                    break
                params["page"] = r.headers["X-Paging-NextKey"]
            assert got == expect


@pytest.mark.parametrize("writer", ["7.0", "8.2"])
def test_negative_ts_offset(server, writer):
    w = server.at(writer)
    fid = make_flow(w, rate=(25, 1))
    post(w, fid, {"object_id": "ext-1", "timerange": "[0:0_1:0)", "ts_offset": "-10:500000000",
                  "get_urls": [{"url": "http://a.example/1", "label": "a"}]})
    for version in ("7.0", "8.2"):
        assert segments(server.at(version), fid)[0]["ts_offset"] == "-10:500000000"
    got = segments(server.at("8.2"), fid, OTR)[0]
    assert got["object_timerange"] == "[10:500000000_11:500000000)"


# ---- 22: init objects -----------------------------------------------------------------------

GC = ["--gc-interval", "1", "--gc-grace", "1"]


def boxes(data):
    """Top-level ISO BMFF boxes: (type, bytes)."""
    out, i = [], 0
    while i < len(data):
        size, kind = int.from_bytes(data[i:i + 4], "big"), data[i + 4:i + 8].decode()
        assert size >= 8, (kind, size)
        out.append((kind, data[i:i + size]))
        i += size
    return out


@pytest.fixture(scope="module")
def fmp4(tmp_path_factory):
    """Four one-second fragments of 25 fps H.264 in fragmented MP4: the init (ftyp, moov) and
    each fragment (moof, mdat) apart, as ffmpeg's fragmenting muxer writes them."""
    d = tmp_path_factory.mktemp("fmp4")
    path = d / "all.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=320x240:rate=25", "-t", "4", "-c:v", "libx264",
                    "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                    str(path)], check=True, timeout=120)
    init, frags = b"", []
    for kind, data in boxes(path.read_bytes()):
        if kind in ("ftyp", "moov"):
            init += data
        elif kind == "moof":
            frags.append(data)
        elif kind == "mdat":
            frags[-1] += data
    assert init and len(frags) == 4
    return d, init, frags


def init_flow(view):
    doc = {"id": new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "container": "video/mp4",
           "essence_parameters": {"frame_width": 320, "frame_height": 240,
                                  "frame_rate": {"numerator": 25, "denominator": 1}}}
    r = view.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def mark_init_segments(srv, fid):
    """essence_parameters.init_segments: true in the stored document. Written under the API
    until the flow validator takes the flag (docs/tams-8.2-changes.md, 17)."""
    if ON_PG:
        sql = ("UPDATE flows SET doc = jsonb_set(doc::jsonb, '{essence_parameters,init_segments}',"
               " 'true')::text WHERE id = ? RETURNING 1")
    else:
        sql = ("UPDATE flows SET doc = json_set(doc, '$.essence_parameters.init_segments',"
               " json('true')) WHERE id = ? RETURNING 1")
    assert db_scalar(srv.data_dir, sql, fid) == 1


def upload_all(view, fid, blobs):
    r = view.post(f"/flows/{fid}/storage", json={"limit": len(blobs)})
    assert r.status_code == 201, r.text
    ids = []
    for obj, data in zip(r.json()["media_objects"], blobs):
        put = obj["put_url"]
        r = view.session.put(put["url"], data=data,
                             headers={"Content-Type": put["content-type"]}, timeout=30)
        assert r.status_code == 200, r.text
        ids.append(obj["object_id"])
    return ids


def register_fmp4(view, fid, init, frags):
    ids = upload_all(view, fid, [init] + frags)
    post(view, fid, [{"object_id": oid, "init_object_id": ids[0],
                      "timerange": f"[{i}:0_{i + 1}:0)"} for i, oid in enumerate(ids[1:])])
    return ids[0], ids[1:]


def frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames,codec_name,width",
                          "-of", "json", str(path)], capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)["streams"][0]


def test_fmp4_end_to_end(server, v70, v82, fmp4):
    d, init, frags = fmp4
    fid = init_flow(v82)
    init_id, media = register_fmp4(v82, fid, init, frags)
    segs = segments(v82, fid)
    assert [s["object_id"] for s in segs] == media
    for s in segs:
        assert s["init_object"]["object_id"] == init_id
        assert [u["label"] for u in s["init_object"]["get_urls"]] == ["local"]
    # A player's view: the init, then any one fragment, decodes to that second's 25 frames.
    seg = segs[2]
    data = v82.session.get(seg["init_object"]["get_urls"][0]["url"], timeout=30).content
    data += v82.session.get(seg["get_urls"][0]["url"], timeout=30).content
    assert data == init + frags[2]
    (d / "play.mp4").write_bytes(data)
    got = frames(d / "play.mp4")
    assert got["codec_name"] == "h264" and got["width"] == 320
    assert int(got["nb_read_frames"]) == 25
    # The init object: an object without a timerange, referenced through the flow's segments.
    obj = get_object(v82, init_id)
    assert obj["referenced_by_flows"] == [fid] and "timerange" not in obj
    assert "key_frame_count" not in obj and obj["get_urls"][0]["label"] == "local"
    assert get_object(v82, media[0])["timerange"] == "[0:0_1:0)"
    # 7.0: the segments without their init (R4), and no new ones without it.
    assert all("init_object" not in s for s in segments(v70, fid))
    post(v70, fid, {"object_id": "ext-1", "timerange": "[20:0_21:0)",
                    "get_urls": [{"url": "http://a.example/1"}]})
    mark_init_segments(server, fid)
    body = check_error(v70.post(f"/flows/{fid}/segments", json={
        "object_id": media[0], "timerange": "[10:0_11:0)"}), 400)
    assert "/tams/v8.2" in body["summary"]
    # a list too, whole, before any item's own answer (the bad one included)
    body = check_error(v70.post(f"/flows/{fid}/segments", json=[
        {"object_id": media[0], "timerange": "[11:0_12:0)"}, {"timerange": "nonsense"}]), 400)
    assert "init_segments" in body["summary"]
    assert len(segments(v82, fid)) == 5


def test_init_object_misuse(v82, fmp4):
    _, init, frags = fmp4
    fid = init_flow(v82)
    init_id, media = register_fmp4(v82, fid, init, frags[:2])
    spare = upload_all(v82, fid, [frags[2], frags[3]])
    cases = [
        # an init object as a media object
        {"object_id": init_id, "timerange": "[10:0_11:0)"},
        # a media object as an init object
        {"object_id": spare[0], "init_object_id": media[0], "timerange": "[10:0_11:0)"},
        # an unknown init object
        {"object_id": spare[0], "init_object_id": "no-such-object", "timerange": "[10:0_11:0)"},
        # one object as both
        {"object_id": spare[0], "init_object_id": spare[0], "timerange": "[10:0_11:0)"},
    ]
    for body in cases:
        err = check_error(v82.post(f"/flows/{fid}/segments", json=body), 400)
        assert "init" in err["summary"], err
    # In a bulk request: the misused item fails, the others are registered.
    r = post(v82, fid, [{"object_id": spare[0], "init_object_id": init_id,
                         "timerange": "[10:0_11:0)"},
                        {"object_id": spare[1], "init_object_id": media[1],
                         "timerange": "[11:0_12:0)"}], status=200)
    failed = r.json()["failed_segments"]
    v82.validate(r.json(), "flow-segment-bulk-failure.json")
    assert [f["object_id"] for f in failed] == [spare[1]]
    assert [s["timerange"] for s in segments(v82, fid)] == ["[0:0_1:0)", "[1:0_2:0)",
                                                            "[10:0_11:0)"]


def test_init_object_collected_with_its_segments(make_server, fmp4):
    _, init, frags = fmp4
    srv = make_server(args=GC)
    v82 = srv.at("8.2")
    f1, f2 = init_flow(v82), init_flow(v82)
    init_id, media = register_fmp4(v82, f1, init, frags[:2])
    # A second flow reuses the media without naming the init (as 8.2 asks): the media
    # objects bring it, and the init is referenced by both flows.
    post(v82, f2, [{"object_id": m, "timerange": f"[{i}:0_{i + 1}:0)"}
                   for i, m in enumerate(media)])
    assert [s["init_object"]["object_id"] for s in segments(v82, f2)] == [init_id, init_id]
    obj = get_object(v82, media[0])
    assert obj["init_object"]["id"] == init_id and obj["init_object"]["get_urls"]
    url = segments(v82, f1)[0]["init_object"]["get_urls"][0]["url"]
    assert sorted(get_object(v82, init_id)["referenced_by_flows"]) == sorted([f1, f2])
    assert v82.delete(f"/flows/{f1}/segments").status_code == 204
    assert get_object(v82, init_id)["referenced_by_flows"] == [f2]
    time.sleep(3)  # past the collector's grace: still there, f2 uses it
    assert srv.session.get(url, timeout=30).status_code == 200
    assert v82.delete(f"/flows/{f2}").status_code in (200, 202, 204)
    check_error(v82.get(f"/objects/{init_id}"), 404)
    # The collector takes its row and its bytes once nothing references it.
    deadline = time.time() + 20
    while srv.session.get(url, timeout=30).status_code == 200:
        assert time.time() < deadline, "the init object was not collected"
        time.sleep(0.5)


def test_reuse_in_one_request_shows_the_init(v82, fmp4):
    _, init, frags = fmp4
    fid = init_flow(v82)
    init_id, media = upload_all(v82, fid, [init, frags[0]])
    post(v82, fid, [{"object_id": media, "init_object_id": init_id, "timerange": "[0:0_1:0)"},
                    {"object_id": media, "timerange": "[5:0_6:0)"}])
    assert [s["init_object"]["object_id"] for s in segments(v82, fid)] == [init_id, init_id]
