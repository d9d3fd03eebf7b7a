# SPDX-License-Identifier: Apache-2.0
"""Segments under TAMS 8.2 and how 7.0 sees them (docs/tams-8.2-changes.md, 22-27): labelled
get_urls, object_timerange, ordering, negative ts_offset. Each test writes through one version
and reads through both, validating every body against its version's schemas."""
import uuid

import pytest

from conftest import check_error

VIDEO = "urn:x-nmos:format:video"


def new_id():
    return str(uuid.uuid4())


def make_flow(view, rate=None, container="video/mp2t"):
    ep = {"frame_width": 1920, "frame_height": 1080}
    if rate:
        ep["frame_rate"] = {"numerator": rate[0], "denominator": rate[1]}
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
