# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2 storage: storage_backend_tag filters on get_urls (change 25), the presigned choice
of POST /flows/{id}/storage (30-33) and object instances (29), each against the 7.0 view,
with the built-in store and an S3 backend (tests/s3/s3server.py checks every signature)."""
import json
import urllib.parse
import uuid

import pytest
import requests

from conftest import check_error

S3_ID = "0a1b2c3d-3333-4aaa-8bbb-000000000003"
EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def s3_backend(s3, bid, label, **extra):
    doc = {"id": bid, "label": label, "type": "s3", "provider": "test",
           "store_product": "tams s3server", "region": s3.region,
           "endpoints": [f"http://127.0.0.1:{s3.port}"], "bucket": "tams-media",
           "prefix": f"{label}/", "access_key": s3.access_key, "secret_key": s3.secret_key}
    doc.update(extra)
    return doc


@pytest.fixture
def srv(make_server, tmpdir_path, s3_test_server):
    """The built-in store (tier hot) and one S3 backend (tier archive, site london)."""
    conf = tmpdir_path / "storage.json"
    conf.write_text(json.dumps({
        "local": {"tags": {"tier": "hot"}},
        "backends": [s3_backend(s3_test_server, S3_ID, "s3",
                                tags={"tier": "archive", "site": ["leeds", "london"]})]}))
    return make_server(args=["--storage-config", str(conf)])


def send(method, url, **kw):
    return requests.request(method, url, timeout=30, **kw)


def make_flow(view):
    fid = str(uuid.uuid4())
    r = view.put(f"/flows/{fid}", json={
        "id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
        "codec": "video/h264", "container": "video/mp2t",
        "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
    assert r.status_code == 201, r.text
    return fid


def allocate(view, fid, **body):
    r = view.post(f"/flows/{fid}/storage", json={"limit": 1, **body})
    assert r.status_code == 201, r.text
    view.validate(r.json(), "flow-storage.json")
    return r.json()["media_objects"][0]


def upload(obj, data=b"media bytes"):
    put = obj["put_url"]
    r = send("PUT", put["url"], data=data,
             headers={"Content-Type": put["content-type"], **put.get("headers", {})})
    assert r.status_code in (200, 201), (r.status_code, r.text)


def register(view, fid, seg):
    r = view.post(f"/flows/{fid}/segments", json=seg)
    assert r.status_code == 201, r.text


def seg_labels(view, fid, **params):
    r = view.get(f"/flows/{fid}/segments", params=params)
    assert r.status_code == 200, r.text
    for seg in r.json():
        view.validate(seg, "flow-segment.json")
    return [sorted(u["label"] for u in seg.get("get_urls", [])) for seg in r.json()]


# --- storage_backend_tag filters (change 25) ----------------------------------------------


def test_backend_tag_filters_on_get_urls(srv):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    fid = make_flow(v82)
    local = allocate(v82, fid)
    s3 = allocate(v82, fid, storage_id=S3_ID)
    upload(local)
    upload(s3)
    register(v82, fid, {"object_id": local["object_id"], "timerange": "[0:0_1:0)"})
    register(v82, fid, {"object_id": s3["object_id"], "timerange": "[1:0_2:0)"})
    register(v82, fid, {"object_id": "ext-1", "timerange": "[2:0_3:0)", "get_urls": EXT})
    assert seg_labels(v82, fid) == [["local"], ["s3"], ["ext"]]
    cases = [
        ({"storage_backend_tag.tier": "hot"}, [["local"], [], []]),
        ({"storage_backend_tag.tier": "archive,cold"}, [[], ["s3"], []]),
        ({"storage_backend_tag.site": "london"}, [[], ["s3"], []]),
        ({"storage_backend_tag.site": "lon"}, [[], [], []]),
        ({"storage_backend_tag_exists.site": "true"}, [[], ["s3"], []]),
        ({"storage_backend_tag_exists.site": "false"}, [["local"], [], ["ext"]]),
        ({"storage_backend_tag.tier": "hot,archive", "accept_get_urls": "s3"}, [[], ["s3"], []]),
    ]
    for params, expect in cases:
        assert seg_labels(v82, fid, **params) == expect, params
    # 7.0 has no such parameters: 400 as for any unknown one
    for name in ("storage_backend_tag.tier", "storage_backend_tag_exists.tier"):
        check_error(v70.get(f"/flows/{fid}/segments", params={name: "true"}), 400)
    check_error(v82.get(f"/flows/{fid}/segments",
                        params={"storage_backend_tag_exists.tier": "yes"}), 400)
    check_error(v82.get(f"/flows/{fid}/segments", params={"storage_backend_tag.": "x"}), 400)
