# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2 storage: storage_backend_tag filters on get_urls (change 25), the presigned choice
of POST /flows/{id}/storage (30-33) and object instances (29), each against the 7.0 view,
with the built-in store and an S3 backend (tests/s3/s3server.py checks every signature)."""
import json
import urllib.parse
import uuid

import pytest
import requests

from conftest import S3TestServer, check_error

S3_ID = "0a1b2c3d-3333-4aaa-8bbb-000000000003"
EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def s3_backend(s3, bid, label, **extra):
    doc = {"id": bid, "label": label, "type": "s3", "provider": "test",
           "store_product": "tams s3server", "region": s3.region,
           "endpoints": [f"http://127.0.0.1:{s3.port}"], "bucket": "tams-media",
           "prefix": f"{label}/", "access_key": s3.access_key, "secret_key": s3.secret_key}
    doc.update(extra)
    return doc


@pytest.fixture(scope="module")
def s3_test_server(tmp_path_factory):
    """The S3 test server, taking header-signed object requests too (presigned: false)."""
    srv = S3TestServer(tmp_path_factory.mktemp("s3"), "AKIAIOSFODNN7EXAMPLE",
                       "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-2",
                       args=["--object-header-auth"])
    srv.start()
    srv.create_bucket("tams-media")
    yield srv
    srv.stop()


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


# --- the presigned choice (changes 30, 31, 32, 33) ----------------------------------------


def header_signed_put(s3, url, data, content_type):
    """A PUT with the client's own SigV4 Authorization header (botocore), no query signature."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="PUT", url=url, data=data, headers={"Content-Type": content_type})
    S3SigV4Auth(Credentials(s3.access_key, s3.secret_key), "s3", s3.region).add_auth(req)
    return send("PUT", url, data=data, headers=dict(req.headers.items()))


def test_presigned_choice_on_s3(srv, s3_test_server):
    v82 = srv.at("8.2")
    fid = make_flow(v82)
    signed = allocate(v82, fid, storage_id=S3_ID, presigned=True)
    assert signed["presigned"] is True
    assert "X-Amz-Signature=" in signed["put_url"]["url"]
    upload(signed)
    plain = allocate(v82, fid, storage_id=S3_ID, presigned=False)
    assert plain["presigned"] is False
    url = plain["put_url"]["url"]
    assert not urllib.parse.urlsplit(url).query
    assert url.startswith(f"http://127.0.0.1:{s3_test_server.port}/tams-media/s3/")
    # the store wants the client's own authorisation for an unsigned URL
    r = send("PUT", url, data=b"x", headers={"Content-Type": "video/mp2t"})
    assert r.status_code == 403, r.text
    r = header_signed_put(s3_test_server, url, b"unsigned upload", "video/mp2t")
    assert r.status_code == 200, r.text
    register(v82, fid, {"object_id": signed["object_id"], "timerange": "[0:0_1:0)"})
    register(v82, fid, {"object_id": plain["object_id"], "timerange": "[1:0_2:0)"})
    segs = v82.get(f"/flows/{fid}/segments").json()
    got = send("GET", segs[1]["get_urls"][0]["url"])
    assert got.status_code == 200 and got.content == b"unsigned upload"
    # the default is presigned
    assert allocate(v82, fid, storage_id=S3_ID)["presigned"] is True


def test_local_store_refuses_unsigned(srv):
    v82 = srv.at("8.2")
    fid = make_flow(v82)
    r = v82.post(f"/flows/{fid}/storage", json={"limit": 2, "presigned": False})
    check_error(r, 400)
    assert "presigned" in r.json()["summary"]
    check_error(v82.post(f"/flows/{fid}/storage", json={"presigned": "no"}), 400)
    obj = allocate(v82, fid, presigned=True)
    assert obj["presigned"] is True
    upload(obj)
    register(v82, fid, {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
    # nothing was allocated by the refused requests: the flow's storage holds one object
    assert len(v82.get(f"/flows/{fid}/segments").json()) == 1


def test_70_storage_body_unchanged(srv):
    v70 = srv.at("7.0")
    fid = make_flow(v70)
    for body in ({"limit": 1}, {"limit": 1, "presigned": False}):
        r = v70.post(f"/flows/{fid}/storage", json=body)
        assert r.status_code == 201, r.text
        v70.validate(r.json(), "flow-storage.json")
        obj = r.json()["media_objects"][0]
        assert "presigned" not in obj
        assert set(r.json()) == {"media_objects"}  # no pre, no put_cors_url
        upload(obj)  # signed as ever


def test_82_storage_has_no_pre_actions(srv):
    v82 = srv.at("8.2")
    fid = make_flow(v82)
    for sid in (None, S3_ID):
        body = {"limit": 2, **({"storage_id": sid} if sid else {})}
        r = v82.post(f"/flows/{fid}/storage", json=body)
        assert r.status_code == 201
        v82.validate(r.json(), "flow-storage.json")
        assert set(r.json()) == {"media_objects"}
        for obj in r.json()["media_objects"]:
            assert set(obj) == {"object_id", "put_url", "presigned"}
            assert "put_cors_url" not in obj
