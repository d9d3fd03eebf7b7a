# SPDX-License-Identifier: Apache-2.0
"""S3 storage backends (src/media/s3.c) end to end against tests/s3/s3server.py.

The S3 test server checks every presigned URL tamsd hands out with botocore, so a put/get that
works proves the signature; tampered and expired URLs must get 403. Two backends share the one
S3 server: "s3-path" (path-style, 127.0.0.1, the default store) and "s3-virtual"
(virtual-hosted: Host tams-media.localhost:<port>, with a session token and its secret from an
environment variable). The requests below connect to 127.0.0.1 whatever the URL's host and
send the URL's host[:port] as Host, so *.localhost need not resolve here.
"""
import json
import os
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import BIN, Server, VIDEO_RATE, free_port, validate

PATH_ID = "5b0d2f7e-3c2a-4f61-9d1e-7a4b8c9d0e11"
VIRT_ID = "6c1e3a8f-4d3b-4a72-8e2f-8b5c9d0e1f22"
BUCKET = "tams-media"
VIDEO = "urn:x-nmos:format:video"


def backend(s3, bid, label, **extra):
    doc = {"id": bid, "label": label, "type": "s3", "provider": "test",
           "store_product": "tams s3server", "region": s3.region,
           "availability_zone": "eu-west-2a", "endpoints": [f"http://127.0.0.1:{s3.port}"],
           "bucket": BUCKET, "prefix": "tams/", "addressing": "path",
           "access_key": s3.access_key, "secret_key": s3.secret_key}
    doc.update(extra)
    return {k: v for k, v in doc.items() if v is not None}


def two_backends(s3):
    return {"backends": [
        backend(s3, PATH_ID, "s3-path", default=True),
        backend(s3, VIRT_ID, "s3-virtual", endpoints=[f"http://localhost:{s3.port}"],
                addressing="virtual", prefix="", secret_key=None, secret_key_env="S3_SECRET",
                session_token="FQoGZXIvYXdzEXAMPLETOKEN"),
    ]}


def write_conf(tmp, doc):
    path = tmp / f"storage-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(doc))
    return path


def start_tamsd(tmp, s3, doc, *args):
    tmp.mkdir(parents=True, exist_ok=True)
    srv = Server(tmp, args=["--storage-config", str(write_conf(tmp, doc)), *args],
                 env={"S3_SECRET": s3.secret_key})
    return srv.start()


@pytest.fixture(scope="module")
def tams(tmp_path_factory, s3_test_server):
    srv = start_tamsd(tmp_path_factory.mktemp("tams-s3"), s3_test_server,
                      two_backends(s3_test_server))
    yield srv
    srv.stop()
    assert s3_test_server.secret_key not in srv.stderr()


def send(method, url, **kw):
    """Connect to 127.0.0.1 whatever the URL's host, with the URL's host[:port] as Host."""
    parts = urllib.parse.urlsplit(url)
    headers = dict(kw.pop("headers", {}))
    headers["Host"] = parts.netloc
    local = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    return requests.request(method, local, headers=headers, timeout=30, **kw)


def make_flow(srv, container="video/mp2t"):
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": VIDEO,
           "codec": "video/h264", "container": container,
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def allocate(srv, fid, n=1, storage_id=None):
    body = {"limit": n}
    if storage_id:
        body["storage_id"] = storage_id
    r = srv.post(f"/flows/{fid}/storage", json=body)
    assert r.status_code == 201, r.text
    validate(r.json(), "flow-storage.json")
    return r.json()["media_objects"]


def upload(obj, data):
    put = obj["put_url"]
    r = send("PUT", put["url"], data=data, headers={"Content-Type": put["content-type"]})
    assert r.status_code == 200, (r.status_code, r.text)


def register(srv, fid, obj, start):
    r = srv.post(f"/flows/{fid}/segments",
                 json={"object_id": obj["object_id"], "timerange": f"[{start}:0_{start + 1}:0)"})
    assert r.status_code == 201, r.text


def segments(srv, fid, **params):
    r = srv.get(f"/flows/{fid}/segments", params=params)
    assert r.status_code == 200, r.text
    for seg in r.json():
        validate(seg, "flow-segment.json")
    return r.json()


def signature(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]


def assert_refused(resp, code):
    assert resp.status_code == 403, (resp.status_code, resp.text)
    assert f"<Code>{code}</Code>" in resp.text, resp.text


def test_backends_are_listed(tams):
    r = tams.get("/service/storage-backends")
    assert r.status_code == 200, r.text
    body = r.json()
    validate(body, "storage-backends-list.json")
    by_label = {b["label"]: b for b in body}
    assert set(by_label) == {"local", "s3-path", "s3-virtual"}
    assert [b["label"] for b in body if b.get("default_storage")] == ["s3-path"]
    p = by_label["s3-path"]
    assert p["id"] == PATH_ID
    assert (p["provider"], p["store_product"], p["region"], p["availability_zone"]) == \
        ("test", "tams s3server", "eu-west-2", "eu-west-2a")
    assert by_label["s3-virtual"]["id"] == VIRT_ID


@pytest.mark.parametrize("label,bid", [("s3-path", PATH_ID), ("s3-virtual", VIRT_ID)])
def test_round_trip(tams, s3_test_server, label, bid):
    port = s3_test_server.port
    fid = make_flow(tams)
    objs = allocate(tams, fid, 3, storage_id=bid)
    bodies = [os.urandom(1000 + 5000 * i) for i in range(3)]
    for i, (obj, data) in enumerate(zip(objs, bodies)):
        url = urllib.parse.urlsplit(obj["put_url"]["url"])
        if label == "s3-path":
            assert url.netloc == f"127.0.0.1:{port}"
            assert url.path.startswith(f"/{BUCKET}/tams/")
        else:
            assert url.netloc == f"{BUCKET}.localhost:{port}"
            assert "X-Amz-Security-Token=" in url.query
        assert obj["put_url"]["content-type"] == "video/mp2t"
        upload(obj, data)
        register(tams, fid, obj, i)
    segs = segments(tams, fid)
    assert len(segs) == 3
    for seg, data in zip(segs, bodies):
        (u,) = seg["get_urls"]
        assert (u["label"], u["presigned"]) == (label, True)
        assert "storage_id" not in u
        r = send("GET", u["url"])
        assert r.status_code == 200, r.text
        assert r.content == data
        assert r.headers["Content-Type"] == "video/mp2t"
        r = send("GET", u["url"], headers={"Range": "bytes=10-19"})
        assert (r.status_code, r.content) == (206, data[10:20])


def test_default_backend_is_s3(tams, s3_test_server):
    fid = make_flow(tams)
    (obj,) = allocate(tams, fid)
    assert urllib.parse.urlsplit(obj["put_url"]["url"]).port == s3_test_server.port
    upload(obj, b"default store")
    register(tams, fid, obj, 0)
    (seg,) = segments(tams, fid, verbose_storage="true")
    (u,) = seg["get_urls"]
    assert u["storage_id"] == PATH_ID
    assert send("GET", u["url"]).content == b"default store"


def test_verbose_and_filters(tams):
    fid = make_flow(tams)
    (obj,) = allocate(tams, fid, storage_id=VIRT_ID)
    upload(obj, b"filters")
    register(tams, fid, obj, 0)
    (seg,) = segments(tams, fid, verbose_storage="true")
    (u,) = seg["get_urls"]
    assert {k: v for k, v in u.items() if k != "url"} == {
        "label": "s3-virtual", "presigned": True, "storage_id": VIRT_ID, "controlled": True,
        "store_type": "http_object_store", "provider": "test", "region": "eu-west-2",
        "availability_zone": "eu-west-2a", "store_product": "tams s3server"}
    assert len(segments(tams, fid, accept_storage_ids=VIRT_ID)[0]["get_urls"]) == 1
    assert "get_urls" not in segments(tams, fid, accept_storage_ids=PATH_ID)[0]
    assert len(segments(tams, fid, accept_get_urls="s3-virtual")[0]["get_urls"]) == 1
    assert "get_urls" not in segments(tams, fid, accept_get_urls="local,s3-path")[0]
    assert "get_urls" not in segments(tams, fid, accept_get_urls="")[0]
    assert "get_urls" not in segments(tams, fid, presigned="false")[0]
    assert len(segments(tams, fid, presigned="true")[0]["get_urls"]) == 1


@pytest.mark.parametrize("bid", [PATH_ID, VIRT_ID])
def test_tampered_urls_are_refused(tams, bid):
    fid = make_flow(tams)
    (obj,) = allocate(tams, fid, storage_id=bid)
    put = obj["put_url"]["url"]
    sig = signature(put)
    flipped = sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:]
    r = send("PUT", put.replace(sig, flipped), data=b"x", headers={"Content-Type": "video/mp2t"})
    assert_refused(r, "SignatureDoesNotMatch")
    upload(obj, b"the real bytes")
    register(tams, fid, obj, 0)
    url = segments(tams, fid)[0]["get_urls"][0]["url"]
    sig = signature(url)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert_refused(send("GET", url.replace(sig, flipped)), "SignatureDoesNotMatch")
    other = url.replace(obj["put_url"]["url"].split("?")[0].rsplit("/", 1)[1], "0" * 36)
    assert other != url
    assert_refused(send("GET", other), "SignatureDoesNotMatch")  # another key
    assert send("HEAD", url).status_code == 403  # a GET signature does not cover HEAD
    assert send("GET", url).content == b"the real bytes"  # the untouched one still works


def test_expired_urls_are_refused(tmp_path, s3_test_server):
    srv = start_tamsd(tmp_path / "t", s3_test_server, two_backends(s3_test_server),
                      "--media-url-expiry", "1", "--spec-timeout-floors", "false")
    try:
        fid = make_flow(srv)
        objs = allocate(srv, fid, 2, storage_id=VIRT_ID)
        upload(objs[0], b"soon gone")
        register(srv, fid, objs[0], 0)
        url = segments(srv, fid)[0]["get_urls"][0]["url"]
        assert "X-Amz-Expires=1&" in url
        # tamsd's own HEAD at registration is not held to the 1 s: it could expire on the way.
        key = urllib.parse.urlsplit(url).path
        heads = [l for l in s3_test_server.log_text().splitlines() if f"HEAD {key}?" in l]
        assert heads and all("X-Amz-Expires=60&" in l for l in heads), heads
        time.sleep(2.5)
        r = send("GET", url)
        assert_refused(r, "AccessDenied")
        assert "Request has expired" in r.text
        r = send("PUT", objs[1]["put_url"]["url"], data=b"late",
                 headers={"Content-Type": "video/mp2t"})
        assert_refused(r, "AccessDenied")
        # Re-query after a 403: a fresh URL works. Its 1 s of life counts from its X-Amz-Date,
        # a whole second, so it may have as little as a few ms left when it arrives: a few tries.
        for _ in range(5):
            r = send("GET", segments(srv, fid)[0]["get_urls"][0]["url"])
            if r.status_code == 200:
                break
        assert r.status_code == 200 and r.content == b"soon gone", r.text
    finally:
        srv.stop()


def dead_port():
    """A port nothing listens on (bound then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unhealthy_endpoints_are_avoided(tmp_path, s3_test_server):
    live, dead = s3_test_server.port, dead_port()
    doc = {"backends": [backend(
        s3_test_server, PATH_ID, "s3-two",
        endpoints=[f"http://127.0.0.1:{dead}", f"http://127.0.0.1:{live}"], probe_interval=1)]}
    srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
    try:
        time.sleep(2.5)  # the first probe runs at start; one interval more for good measure
        fid = make_flow(srv)
        objs = allocate(srv, fid, 8, storage_id=PATH_ID)
        ports = {urllib.parse.urlsplit(o["put_url"]["url"]).port for o in objs}
        assert ports == {live}
        upload(objs[0], b"healthy")
        register(srv, fid, objs[0], 0)
        for _ in range(4):
            url = segments(srv, fid)[0]["get_urls"][0]["url"]
            assert urllib.parse.urlsplit(url).port == live
        warn = [l for l in srv.log_lines() if "unhealthy" in l.get("msg", json.dumps(l))]
        assert warn, srv.stderr()
    finally:
        srv.stop()


def test_a_hung_endpoint_delays_no_other_probe(tmp_path, s3_test_server):
    """A hung endpoint (it takes the connection, never answers) listed first: the refused one
    after it is still found out at once, and both leave the rotation within probe_interval. A
    round that probed one endpoint after another would wait out the hung one's timeout (5 s)
    before it even tried the next."""
    live, dead = s3_test_server.port, dead_port()
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        doc = {"backends": [backend(
            s3_test_server, PATH_ID, "s3-hung",
            endpoints=[f"http://127.0.0.1:{hung.getsockname()[1]}", f"http://127.0.0.1:{dead}",
                       f"http://127.0.0.1:{live}"], probe_interval=6)]}
        srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
        try:
            time.sleep(4.0)  # one round: at most half the interval (3 s) of waiting
            fid = make_flow(srv)
            objs = allocate(srv, fid, 9, storage_id=PATH_ID)
            ports = {urllib.parse.urlsplit(o["put_url"]["url"]).port for o in objs}
            assert ports == {live}, srv.stderr()
        finally:
            srv.stop()


def test_all_endpoints_healthy_are_spread(tmp_path, s3_test_server):
    live = s3_test_server.port
    doc = {"backends": [backend(
        s3_test_server, PATH_ID, "s3-spread",
        endpoints=[f"http://127.0.0.1:{live}", f"http://localhost:{live}"], probe_interval=1)]}
    srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
    try:
        time.sleep(1.5)
        fid = make_flow(srv)
        objs = allocate(srv, fid, 6, storage_id=PATH_ID)
        hosts = [urllib.parse.urlsplit(o["put_url"]["url"]).hostname for o in objs]
        assert set(hosts) == {"127.0.0.1", "localhost"}
        for obj in objs:  # both endpoints' URLs are signed for their own Host
            upload(obj, b"spread")
    finally:
        srv.stop()


# ---- the upload check: presigned HEADs at registration -------------------------------------------


@pytest.mark.parametrize("label,bid", [("s3-path", PATH_ID), ("s3-virtual", VIRT_ID)])
def test_unuploaded_object_is_refused(tams, label, bid):
    fid = make_flow(tams)
    up, down = allocate(tams, fid, 2, storage_id=bid)
    upload(up, b"uploaded")
    seg = {"object_id": down["object_id"], "timerange": "[1:0_2:0)"}
    r = tams.post(f"/flows/{fid}/segments", json=seg)
    assert r.status_code == 400, r.text
    validate(r.json(), "error.json")
    assert r.json()["summary"].startswith(
        f"object '{down['object_id']}' has not been uploaded to storage backend '{label}' yet")
    r = tams.post(f"/flows/{fid}/segments",
                  json=[{"object_id": up["object_id"], "timerange": "[0:0_1:0)"}, seg])
    assert r.status_code == 200, r.text
    validate(r.json(), "flow-segment-bulk-failure.json")
    (failed,) = r.json()["failed_segments"]
    assert (failed["object_id"], failed["timerange"]) == (down["object_id"], "[1:0_2:0)")
    assert f"storage backend '{label}'" in failed["error"]["summary"]
    assert [g["object_id"] for g in segments(tams, fid)] == [up["object_id"]]
    upload(down, b"now uploaded")
    register(tams, fid, down, 1)
    assert [g["object_id"] for g in segments(tams, fid)] == [up["object_id"], down["object_id"]]


def test_many_objects_are_asked_at_once(tams):
    """More objects than HEADs in flight, on both backends in one request."""
    fid = make_flow(tams)
    objs = allocate(tams, fid, 25, storage_id=PATH_ID) + allocate(tams, fid, 25, storage_id=VIRT_ID)
    missing = {o["object_id"] for o in objs[3::4]}
    for o in objs:
        if o["object_id"] not in missing:
            upload(o, b"x")
    r = tams.post(f"/flows/{fid}/segments",
                  json=[{"object_id": o["object_id"], "timerange": f"[{i}:0_{i + 1}:0)"}
                        for i, o in enumerate(objs)])
    assert r.status_code == 200, r.text
    assert {f["object_id"] for f in r.json()["failed_segments"]} == missing
    assert len(r.json()["failed_segments"]) == len(missing)
    assert len(segments(tams, fid, limit="100")) == len(objs) - len(missing)


def test_unreachable_store_is_503(tmp_path, s3_test_server):
    """A backend that cannot say whether the bytes are there: 503, nothing registered."""
    doc = {"backends": [backend(s3_test_server, PATH_ID, "s3-dead",
                                endpoints=[f"http://127.0.0.1:{dead_port()}"], default=True)]}
    srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
    try:
        fid = make_flow(srv)
        (obj,) = allocate(srv, fid)
        ext = {"object_id": "ext-" + str(uuid.uuid4()), "timerange": "[5:0_6:0)",
               "get_urls": [{"url": "http://media.example.com/x"}]}
        for body in ({"object_id": obj["object_id"], "timerange": "[0:0_1:0)"},
                     [ext, {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"}]):
            r = srv.post(f"/flows/{fid}/segments", json=body)
            assert r.status_code == 503, r.text
            validate(r.json(), "error.json")
            assert r.json()["type"] == "ServiceUnavailable"
            assert "storage backend 's3-dead'" in r.json()["summary"], r.text
        assert segments(srv, fid) == []
        # Without the check the object is taken as it is.
        srv.stop()
        srv = start_tamsd(tmp_path / "t", s3_test_server, doc, "--verify-uploads", "false")
        register(srv, fid, obj, 0)
    finally:
        srv.stop()


def run_bad(tmp_path, doc, env=None):
    conf = write_conf(tmp_path, doc) if not isinstance(doc, str) else doc
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    e.update(env or {})
    p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data-dir",
                        str(tmp_path / "data"), "--storage-config", str(conf)],
                       capture_output=True, text=True, timeout=30, env=e)
    assert p.returncode != 0
    return p.stderr


@pytest.mark.parametrize("change,message", [
    (lambda d: d["backends"][1].update(default=True), "at most one may be"),
    (lambda d: d["backends"][1].update(id="not-a-uuid"), "'s3-virtual' (backends[1]): 'id'"),
    (lambda d: d["backends"][1].update(id=PATH_ID), "'id' is also the id"),
    (lambda d: d["backends"][1].update(label="s3-path"), "'label' is also the label"),
    (lambda d: d["backends"][1].update(label="local"), "built-in store's label"),
    (lambda d: d["backends"][0].update(endpoints=[]), "'endpoints' must list 1 to 16"),
    (lambda d: d["backends"][0].update(endpoints=["ftp://x"]), "'endpoints' item 0"),
    (lambda d: d["backends"][0].update(colour="red"), "'colour' is not a known key"),
    (lambda d: d.update(local={"default": True}), "'local.default' is true"),
    (lambda d: d["backends"][1].update(secret_key_env="NOT_SET_ANYWHERE"),
     "NOT_SET_ANYWHERE, which is not set"),
])
def test_bad_config_stops_the_start(tmp_path, s3_test_server, change, message):
    doc = two_backends(s3_test_server)
    change(doc)
    err = run_bad(tmp_path, doc, env={"S3_SECRET": s3_test_server.secret_key})
    assert message in err, err
    assert s3_test_server.secret_key not in err


def test_missing_config_file_stops_the_start(tmp_path):
    err = run_bad(tmp_path, str(tmp_path / "nope.json"))
    assert "nope.json" in err and "cannot open" in err, err


def test_local_stays_default_without_s3_default(tmp_path, s3_test_server):
    doc = two_backends(s3_test_server)
    del doc["backends"][0]["default"]
    srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
    try:
        body = srv.get("/service/storage-backends").json()
        assert [b["label"] for b in body if b.get("default_storage")] == ["local"]
    finally:
        srv.stop()
    doc["local"] = {"default": False}
    srv = start_tamsd(tmp_path / "u", s3_test_server, doc)
    try:
        body = srv.get("/service/storage-backends").json()
        assert not [b for b in body if b.get("default_storage")]
        r = srv.post(f"/flows/{make_flow(srv)}/storage", json={"limit": 1})
        assert r.status_code == 400, r.text
    finally:
        srv.stop()


# ---- a put_url is short-lived, and what it uploaded is checked at registration ----------------


def expires_of(url):
    return int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Expires"][0])


def test_put_urls_are_short_lived(tmp_path, s3_test_server):
    """put_url_expiry (default 600 s) bounds how long a presigned PUT can overwrite an object,
    registered or not; get_urls keep media_url_expiry, which also caps put_url_expiry."""
    srv = start_tamsd(tmp_path / "a", s3_test_server, two_backends(s3_test_server))
    try:
        fid = make_flow(srv)
        for bid in (PATH_ID, VIRT_ID):
            (obj,) = allocate(srv, fid, storage_id=bid)
            assert expires_of(obj["put_url"]["url"]) == 600
        upload(obj, b"x")
        register(srv, fid, obj, 0)
        assert expires_of(segments(srv, fid)[0]["get_urls"][0]["url"]) == 3600
        local = allocate(srv, fid, storage_id=srv.get("/service/storage-backends").json()[0]["id"])
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(local[0]["put_url"]["url"]).query)
        assert 590 <= int(q["expires"][0]) - time.time() <= 600
    finally:
        srv.stop()
    srv = start_tamsd(tmp_path / "b", s3_test_server, two_backends(s3_test_server),
                      "--media-url-expiry", "120")
    try:
        (obj,) = allocate(srv, make_flow(srv))
        assert expires_of(obj["put_url"]["url"]) == 120
    finally:
        srv.stop()
    # 5 s: long enough for the upload in time on a loaded machine, short enough to wait out
    srv = start_tamsd(tmp_path / "c", s3_test_server, two_backends(s3_test_server),
                      "--put-url-expiry", "5", "--spec-timeout-floors", "false")
    try:
        fid = make_flow(srv)
        early, late = allocate(srv, fid, 2)
        signed = time.time()  # the URLs were signed before this: they expire by signed + 5
        assert expires_of(early["put_url"]["url"]) == 5
        upload(early, b"in time")
        register(srv, fid, early, 0)
        time.sleep(max(0.0, signed + 6 - time.time()))
        # The registered object's put_url no longer works: its bytes stay.
        r = send("PUT", early["put_url"]["url"], data=b"evil", headers={"Content-Type": "text/html"})
        assert_refused(r, "AccessDenied")
        r = send("PUT", late["put_url"]["url"], data=b"late", headers={"Content-Type": "video/mp2t"})
        assert_refused(r, "AccessDenied")
        url = segments(srv, fid)[0]["get_urls"][0]["url"]
        assert expires_of(url) == 3600
        assert send("GET", url).content == b"in time"
    finally:
        srv.stop()


def test_oversized_object_is_refused_at_registration(tmp_path, s3_test_server):
    """A presigned PUT cannot cap the size: the HEAD at registration does (max_object_bytes)."""
    srv = start_tamsd(tmp_path / "t", s3_test_server, two_backends(s3_test_server),
                      "--max-object-bytes", "4k")
    try:
        fid = make_flow(srv)
        small, big = allocate(srv, fid, 2)
        upload(small, b"s" * 4096)
        upload(big, b"b" * 4097)
        seg = {"object_id": big["object_id"], "timerange": "[1:0_2:0)"}
        r = srv.post(f"/flows/{fid}/segments", json=seg)
        assert r.status_code == 400, r.text
        validate(r.json(), "error.json")
        assert "is 4097 bytes, more than this server's max_object_bytes (4096)" in \
            r.json()["summary"], r.text
        r = srv.post(f"/flows/{fid}/segments",
                     json=[{"object_id": small["object_id"], "timerange": "[0:0_1:0)"}, seg])
        assert r.status_code == 200, r.text
        (failed,) = r.json()["failed_segments"]
        assert failed["object_id"] == big["object_id"]
        assert [g["object_id"] for g in segments(srv, fid)] == [small["object_id"]]
    finally:
        srv.stop()


@pytest.mark.parametrize("quirk", ["no-length", "bad-etag"])
def test_head_answer_without_size_or_with_a_bad_etag_is_not_an_upload(tmp_path, quirk):
    """A 200 to the HEAD that does not give the object's size, or gives a malformed ETag, is not
    an S3 answer about an upload: 503, nothing registered, and a warning names the backend."""
    from conftest import S3TestServer
    s3 = S3TestServer(tmp_path / "s3", "AKIAIOSFODNN7EXAMPLE",
                      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-2",
                      args=["--head-quirk", quirk])
    (tmp_path / "s3").mkdir()
    s3.start()
    try:
        s3.create_bucket(BUCKET)
        srv = start_tamsd(tmp_path / "t", s3, two_backends(s3))
        try:
            fid = make_flow(srv)
            (obj,) = allocate(srv, fid)
            upload(obj, b"bytes")
            r = srv.post(f"/flows/{fid}/segments",
                         json={"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
            assert r.status_code == 503, r.text
            validate(r.json(), "error.json")
            assert segments(srv, fid) == []
            what = "no Content-Length" if quirk == "no-length" else "malformed ETag"
            assert f"storage backend 's3-path': HEAD of object" in srv.stderr()
            assert what in srv.stderr()
        finally:
            srv.stop()
    finally:
        s3.stop()


def test_conditional_put(tmp_path, s3_test_server):
    """conditional_put: the put_url is signed with If-None-Match: * (listed in put_url.headers),
    so a store with conditional writes refuses to replace an object, before or after its
    segment is registered, and a PUT without the header is refused (403)."""
    doc = {"backends": [backend(s3_test_server, PATH_ID, "s3-once", default=True,
                                conditional_put=True)]}
    srv = start_tamsd(tmp_path / "t", s3_test_server, doc)
    try:
        fid = make_flow(srv)
        obj, other = allocate(srv, fid, 2)
        put = obj["put_url"]
        assert put["headers"] == {"If-None-Match": "*"}
        assert "if-none-match" in urllib.parse.parse_qs(
            urllib.parse.urlsplit(put["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
        r = send("PUT", put["url"], data=b"no header", headers={"Content-Type": "video/mp2t"})
        assert_refused(r, "AccessDenied")  # a signed header is missing
        headers = {"Content-Type": put["content-type"], **put["headers"]}
        assert send("PUT", put["url"], data=b"first", headers=headers).status_code == 200
        r = send("PUT", put["url"], data=b"second", headers=headers)
        assert r.status_code == 412 and "<Code>PreconditionFailed</Code>" in r.text, r.text
        register(srv, fid, obj, 0)
        r = send("PUT", put["url"], data=b"<script>", headers={**headers,
                                                                "Content-Type": "text/html"})
        assert r.status_code == 412, r.text
        url = segments(srv, fid)[0]["get_urls"][0]["url"]
        g = send("GET", url)
        assert g.content == b"first" and g.headers["Content-Type"] == "video/mp2t"
        # Without conditional_put nothing changes: no headers, and the store replaces.
        (plain,) = allocate(srv, fid, storage_id=srv.get(
            "/service/storage-backends").json()[0]["id"])
        assert "headers" not in plain["put_url"]
    finally:
        srv.stop()
