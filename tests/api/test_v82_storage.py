# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2 storage: storage_backend_tag filters on get_urls (change 25), the presigned choice
of POST /flows/{id}/storage (30-33) and object instances (29), each against the 7.0 view,
with the built-in store and an S3 backend (tests/s3/s3server.py checks every signature)."""
import json
import time
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
        "essence_parameters": {"frame_width": 1920, "frame_height": 1080,
                               "frame_rate": {"numerator": 25, "denominator": 1}}})
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


def test_content_type_of_the_put_urls(srv):
    """8.2's content_type (change 32): the put_urls' type when it is not the flow's container
    (an init segment's); invalid is 400; 7.0 ignores the member."""
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    fid = make_flow(v82)
    r = v82.post(f"/flows/{fid}/storage", json={"limit": 1, "content_type": "video/mp4"})
    assert r.status_code == 201, r.text
    v82.validate(r.json(), "flow-storage.json")
    assert r.json()["media_objects"][0]["put_url"]["content-type"] == "video/mp4"
    r = v82.post(f"/flows/{fid}/storage", json={"limit": 1})
    assert r.json()["media_objects"][0]["put_url"]["content-type"] == "video/mp2t"
    for bad in ("mp4", 5, "video/mp4; codecs=avc1", ""):
        check_error(v82.post(f"/flows/{fid}/storage", json={"limit": 1, "content_type": bad}),
                    400)
    r = v70.post(f"/flows/{fid}/storage", json={"limit": 1, "content_type": "video/mp4"})
    assert r.status_code == 201, r.text
    assert r.json()["media_objects"][0]["put_url"]["content-type"] == "video/mp2t"


# --- object instances (change 29) ---------------------------------------------------------


def registered(view, fid, start, **alloc):
    obj = allocate(view, fid, **alloc)
    upload(obj, f"bytes of {start}".encode())
    register(view, fid, {"object_id": obj["object_id"], "timerange": f"[{start}:0_{start + 1}:0)"})
    return obj["object_id"]


def urls_of(view, fid, **params):
    r = view.get(f"/flows/{fid}/segments", params={"verbose_storage": "true", **params})
    assert r.status_code == 200, r.text
    for seg in r.json():
        view.validate(seg, "flow-segment.json")
    return [seg.get("get_urls", []) for seg in r.json()]


def inst(oid):
    return f"/objects/{urllib.parse.quote(oid, safe='')}/instances"


@pytest.mark.parametrize("first,second", [(None, S3_ID), (S3_ID, "local")])
def test_copy_between_backends(srv, first, second):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    local_id = next(b["id"] for b in v82.get("/service/storage-backends").json()
                    if b["label"] == "local")
    second = local_id if second == "local" else second
    fid = make_flow(v82)
    oid = registered(v82, fid, 0, **({"storage_id": first} if first else {}))
    r = v82.post(inst(oid), json={"storage_id": second})
    assert r.status_code == 201, r.text
    (urls,) = urls_of(v82, fid)
    assert sorted(u["storage_id"] for u in urls) == sorted([first or local_id, second])
    for u in urls:  # both copies hold the bytes, each through its own (signed) URL
        got = send("GET", u["url"])
        assert got.status_code == 200 and got.content == b"bytes of 0", u
        assert got.headers["Content-Type"].startswith("video/mp2t")
    # 7.0 sees the copy among the segment's get_urls
    r = v70.get(f"/flows/{fid}/segments")
    v70.validate(r.json()[0], "flow-segment.json")
    assert len(r.json()[0]["get_urls"]) == 2
    # the filters apply to copies too
    assert [u["label"] for u in urls_of(v82, fid, **{"storage_backend_tag.tier": "archive"})[0]] \
        == ["s3"]
    # a second copy into the same backend is refused, and so is a backend that does not exist
    check_error(v82.post(inst(oid), json={"storage_id": second}), 400)
    check_error(v82.post(inst(oid), json={"storage_id": str(uuid.uuid4())}), 400)
    # the original may go now: the copy takes its place, its bytes are still served
    r = v82.delete(inst(oid), params={"storage_id": first or local_id})
    assert r.status_code == 204, r.text
    (urls,) = urls_of(v82, fid)
    assert [u["storage_id"] for u in urls] == [second]
    assert send("GET", urls[0]["url"]).content == b"bytes of 0"
    # the last controlled instance stays
    check_error(v82.delete(inst(oid), params={"storage_id": second}), 400)


def test_uncontrolled_instances(srv):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    fid = make_flow(v82)
    oid = registered(v82, fid, 0)
    extra = {"url": "https://cdn.example.com/a.ts", "label": "cdn"}
    r = v82.post(inst(oid), json=extra)
    assert r.status_code == 201, r.text
    (urls,) = urls_of(v82, fid)
    assert [(u["label"], u["controlled"]) for u in urls] == [("local", True), ("cdn", False)]
    assert urls[1]["url"] == extra["url"]
    assert [u["label"] for u in v70.get(f"/flows/{fid}/segments").json()[0]["get_urls"]] == \
        ["local", "cdn"]
    # the label is taken now, and a backend's label is never an uncontrolled one's
    check_error(v82.post(inst(oid), json=extra), 400)
    check_error(v82.post(inst(oid), json={"url": "https://x.example/a", "label": "s3"}), 400)
    # deleting by label: the uncontrolled one goes, the local one (by its label) is the last
    assert v82.delete(inst(oid), params={"label": "cdn"}).status_code == 204
    assert [u["label"] for u in urls_of(v82, fid)[0]] == ["local"]
    check_error(v82.delete(inst(oid), params={"label": "local"}), 400)
    check_error(v82.delete(inst(oid), params={"label": "cdn"}), 404)
    assert [u["label"] for u in urls_of(v82, fid)[0]] == ["local"]


def test_instances_errors(srv):
    v82, v70 = srv.at("8.2"), srv.at("7.0")
    fid = make_flow(v82)
    oid = registered(v82, fid, 0)
    unused = allocate(v82, fid)["object_id"]
    for body in ({}, {"url": "https://x.example/a"}, {"label": "x"},
                 {"storage_id": "nope"}, {"storage_id": S3_ID, "url": "u", "label": "l"},
                 {"url": "", "label": "x"}, [1]):
        check_error(v82.post(inst(oid), json=body), 400)
    for params in ({}, {"storage_id": S3_ID, "label": "x"}, {"storage_id": "x"}, {"other": "1"}):
        check_error(v82.delete(inst(oid), params=params), 400)
    # unknown, or allocated and never used: 404
    for o in ("no-such-object", unused):
        check_error(v82.post(inst(o), json={"storage_id": S3_ID}), 404)
        check_error(v82.post(inst(o), json={"url": "https://x.example/a", "label": "x"}), 404)
        check_error(v82.delete(inst(o), params={"label": "x"}), 404)
    # an object with only uncontrolled instances has nothing tamsd copies from
    register(v82, fid, {"object_id": "ext-only", "timerange": "[5:0_6:0)", "get_urls": EXT})
    r = v82.post(inst("ext-only"), json={"storage_id": S3_ID})
    check_error(r, 400)
    # not in 7.0
    assert v70.post(inst(oid), json={"storage_id": S3_ID}).status_code in (404, 405)
    assert v70.delete(inst(oid), params={"label": "x"}).status_code in (404, 405)
    assert [u["label"] for u in urls_of(v82, fid)[0]] == ["local"]


def test_instance_ids_with_slashes(srv):
    v82 = srv.at("8.2")
    fid = make_flow(v82)
    r = v82.post(f"/flows/{fid}/storage", json={"object_ids": ["a/b c"]})
    assert r.status_code == 201, r.text
    upload(r.json()["media_objects"][0])
    register(v82, fid, {"object_id": "a/b c", "timerange": "[0:0_1:0)"})
    r = v82.post(inst("a/b c"), json={"storage_id": S3_ID})
    assert r.status_code == 201, r.text
    assert sorted(u["label"] for u in urls_of(v82, fid)[0]) == ["local", "s3"]


def test_copies_are_collected_with_their_object(make_server, tmpdir_path, s3_test_server):
    conf = tmpdir_path / "gc-storage.json"
    conf.write_text(json.dumps({"backends": [s3_backend(s3_test_server, S3_ID, "s3")]}))
    srv = make_server(args=["--storage-config", str(conf), "--gc-grace", "0",
                            "--gc-interval", "1"])
    v82 = srv.at("8.2")
    fid = make_flow(v82)
    oid = registered(v82, fid, 0)
    keep = registered(v82, fid, 1)
    for o in (oid, keep):
        assert v82.post(inst(o), json={"storage_id": S3_ID}).status_code == 201
    gone_urls, kept_urls = urls_of(v82, fid)
    # a removed copy is deleted from its store by the collector
    assert v82.delete(inst(keep), params={"storage_id": S3_ID}).status_code == 204
    removed = next(u["url"] for u in kept_urls if u["storage_id"] == S3_ID)
    # the object's last segment goes: the object, its copy included, is collected
    assert v82.delete(f"/flows/{fid}/segments", params={"timerange": "[0:0_1:0)"}).status_code \
        in (202, 204)
    deadline = time.time() + 30
    while any(send("GET", u["url"]).status_code != 404 for u in gone_urls) or \
            send("GET", removed).status_code != 404:
        assert time.time() < deadline, "the collector left a copy behind"
        time.sleep(0.2)
    local_kept = next(u["url"] for u in kept_urls if u["storage_id"] != S3_ID)
    assert send("GET", local_kept).status_code == 200
