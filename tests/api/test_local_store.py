# SPDX-License-Identifier: Apache-2.0
"""The built-in object store: PUT/GET/HEAD /_objects/{key}?expires=&sig=, Range, signatures."""
import os
import socket
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import Server, VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"


def new_id():
    return str(uuid.uuid4())


def make_flow(srv, container="video/mp2t"):
    doc = {"id": new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "container": container,
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def allocate(srv, fid, n=1):
    r = srv.post(f"/flows/{fid}/storage", json={"limit": n})
    assert r.status_code == 201, r.text
    validate(r.json(), "flow-storage.json")
    return r.json()["media_objects"]


def get_url_of(srv, fid, object_id):
    """The controlled get_url of a registered object."""
    r = srv.get(f"/flows/{fid}/segments", params={"object_id": object_id})
    assert r.status_code == 200, r.text
    urls = [u["url"] for u in r.json()[0]["get_urls"] if u.get("label") == "local"]
    assert len(urls) == 1
    return urls[0]


def upload(srv, obj, data, status=200):
    put = obj["put_url"]
    r = srv.session.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                        timeout=30)
    assert r.status_code == status, (r.status_code, r.text)
    return r


def with_query(url, **changes):
    parts = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(parts.query))
    q.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


def raw_request(srv, data, read=True):
    """Send bytes on a fresh connection; return the whole answer."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(data)
        if not read:
            return b""
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("local"), args=["--max-object-bytes", "64k"])
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stored(srv):
    """One uploaded and registered object: (flow id, media object, bytes, get_url)."""
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    data = os.urandom(1000)
    upload(srv, obj, data)
    r = srv.post(f"/flows/{fid}/segments",
                 json={"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
    assert r.status_code == 201, r.text
    return fid, obj, data, get_url_of(srv, fid, obj["object_id"])


def test_put_get_head(srv, stored):
    fid, obj, data, url = stored
    g = srv.session.get(url, timeout=30)
    assert g.status_code == 200
    assert g.content == data
    assert g.headers["Content-Type"] == "video/mp2t"
    assert g.headers["Content-Length"] == str(len(data))
    h = srv.session.head(url, timeout=30)
    assert h.status_code == 200 and h.content == b""
    for name in ("Content-Type", "Content-Length", "Accept-Ranges"):
        assert h.headers.get(name) == g.headers.get(name), name


def test_content_type_is_what_was_sent(srv):
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    r = srv.session.put(obj["put_url"]["url"], data=b"abc",
                        headers={"Content-Type": "application/x-something; a=b"})
    assert r.status_code == 200, r.text
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    g = srv.session.get(get_url_of(srv, fid, obj["object_id"]))
    assert g.content == b"abc"
    assert g.headers["Content-Type"] == "application/x-something; a=b"


def test_empty_object(srv):
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    upload(srv, obj, b"")
    srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                            "timerange": "[0:0_1:0)"})
    url = get_url_of(srv, fid, obj["object_id"])
    g = srv.session.get(url)
    assert g.status_code == 200 and g.content == b""
    r = srv.session.get(url, headers={"Range": "bytes=0-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */0"


@pytest.mark.parametrize("rng,lo,hi", [
    ("bytes=0-9", 0, 9), ("bytes=100-199", 100, 199), ("bytes=-10", 990, 999),
    ("bytes=990-", 990, 999), ("bytes=0-", 0, 999), ("bytes=500-5000", 500, 999),
    ("bytes=-5000", 0, 999), ("bytes=999-999", 999, 999)])
def test_range(srv, stored, rng, lo, hi):
    url, data = stored[3], stored[2]
    r = srv.session.get(url, headers={"Range": rng})
    assert r.status_code == 206, (rng, r.status_code)
    assert r.content == data[lo:hi + 1]
    assert r.headers["Content-Range"] == f"bytes {lo}-{hi}/{len(data)}"
    assert r.headers["Content-Length"] == str(hi - lo + 1)
    assert r.headers["Content-Type"] == "video/mp2t"
    h = srv.session.head(url, headers={"Range": rng})
    assert h.status_code == 206 and h.content == b""
    assert h.headers["Content-Range"] == r.headers["Content-Range"]


@pytest.mark.parametrize("rng", ["bytes=1000-", "bytes=1000-2000", "bytes=5000-5001", "bytes=-0"])
def test_range_not_satisfiable(srv, stored, rng):
    r = srv.session.get(stored[3], headers={"Range": rng})
    check_error(r, 416)
    assert r.headers["Content-Range"] == "bytes */1000"


@pytest.mark.parametrize("rng", ["bytes=0-1,5-6", "bytes=5-2", "items=0-5", "bytes=abc",
                                 "bytes=", "bytes=-", "bytes=1-2-3"])
def test_range_ignored(srv, stored, rng):
    r = srv.session.get(stored[3], headers={"Range": rng})
    assert r.status_code == 200, (rng, r.status_code)
    assert r.content == stored[2]
    assert "Content-Range" not in r.headers


def test_signatures(srv, stored):
    fid, obj, data, get_url = stored
    put_url = obj["put_url"]["url"]
    sig = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(get_url).query))["sig"]
    exp = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(get_url).query))["expires"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    bad_gets = [
        with_query(get_url, sig=flipped),
        with_query(get_url, sig=sig.upper()),
        with_query(get_url, sig=""),
        with_query(get_url, sig=sig[:-2]),
        with_query(get_url, expires=str(int(exp) + 1)),
        with_query(get_url, expires=str(int(exp) - 1)),
        with_query(get_url, expires=exp + "0"),
        with_query(get_url, expires=" " + exp),
        with_query(get_url, expires="+" + exp),
        with_query(get_url, expires="0" + exp),
        with_query(get_url, expires=exp + " "),
        with_query(get_url, expires=""),
        get_url.split("?")[0],
        get_url.split("&sig=")[0],
        put_url,  # the PUT signature does not authorise a GET
    ]
    for url in bad_gets:
        r = srv.session.get(url)
        assert r.status_code == 403, (url, r.status_code)
        check_error(r, 403)
        h = srv.session.head(url)
        assert h.status_code == 403 and h.content == b""
    # The GET signature does not authorise a PUT, nor does a tampered one; nothing changes.
    for url in (get_url, with_query(put_url, sig=flipped), with_query(put_url, expires="1")):
        r = srv.session.put(url, data=b"evil", headers={"Content-Type": "text/plain"})
        check_error(r, 403)
    g = srv.session.get(get_url)
    assert g.content == data and g.headers["Content-Type"] == "video/mp2t"
    # A signature is bound to its key: another object's signature does not open this one.
    other = allocate(srv, fid)[0]
    key_path = urllib.parse.urlsplit(get_url).path
    other_q = urllib.parse.urlsplit(other["put_url"]["url"]).query
    r = srv.session.put(srv.url + key_path + "?" + other_q, data=b"x")
    check_error(r, 403)


def test_expired_urls(make_server):
    s = make_server(args=["--media-url-expiry", "1", "--spec-timeout-floors", "false"])
    fid = make_flow(s)
    objs = allocate(s, fid, 2)
    upload(s, objs[0], b"hello")
    s.post(f"/flows/{fid}/segments", json={"object_id": objs[0]["object_id"],
                                          "timerange": "[0:0_1:0)"})
    get_url = get_url_of(s, fid, objs[0]["object_id"])
    assert s.session.get(get_url).content == b"hello"
    time.sleep(2.1)
    check_error(s.session.get(get_url), 403)
    check_error(s.session.put(objs[1]["put_url"]["url"], data=b"late"), 403)
    # A fresh listing hands out a fresh, working URL.
    assert s.session.get(get_url_of(s, fid, objs[0]["object_id"])).content == b"hello"


def test_unknown_keys(srv, stored):
    fid, obj, data, get_url = stored
    q = urllib.parse.urlsplit(get_url).query
    key = urllib.parse.urlsplit(get_url).path[len("/_objects/"):]
    u = new_id()
    for path in (f"/_objects/{u[9:11]}/{u[11:13]}/{u}",  # well-formed, never uploaded
                 "/_objects/nothing", "/_objects/", "/_objects/" + key + "x",
                 "/_objects/" + key.upper(), "/_objects/" + key + "/..",
                 "/_objects/" + key + ".type"):
        for method in ("GET", "HEAD", "PUT"):
            r = srv.session.request(method, srv.url + path + "?" + q, data=b"x")
            assert r.status_code in (403, 404), (method, path, r.status_code)
    # The key's signature does not open its .type side file or the temporary folder.
    r = srv.session.get(srv.url + "/_objects/" + key + ".type?" + q)
    assert r.status_code in (403, 404)
    assert b"video/mp2t" not in r.content


@pytest.mark.parametrize("path", [
    "/_objects/../../etc/passwd", "/_objects/%2e%2e/%2e%2e/etc/passwd",
    "/_objects/..%2f..%2fetc%2fpasswd", "/_objects/%2E%2E%2F%2E%2E%2Fmedia.secret",
    "/_objects/../media.secret", "/_objects/../tams.db", "/_objects/tmp/",
    "/_objects//etc/passwd", "/_objects/%00", "/_objects/ab/cd/../../../media.secret"])
def test_paths_outside_the_store(srv, stored, path):
    q = urllib.parse.urlsplit(stored[3]).query
    for method in (b"GET", b"HEAD"):
        raw = raw_request(srv, method + b" " + path.encode() + b"?" + q.encode() +
                          b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status = int(raw.split(b" ", 2)[1])
        assert status in (400, 403, 404), (path, raw[:200])
        assert b"root:" not in raw and b"SQLite" not in raw
        secret = (srv.data_dir / "media.secret").read_bytes().strip()
        assert secret not in raw


def interrupt_upload(srv, obj, pause):
    """Send a PUT declaring 1000 bytes, send 10, close the connection."""
    parts = urllib.parse.urlsplit(obj["put_url"]["url"])
    head = (f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: video/mp2t\r\nContent-Length: 1000\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(head + b"0123456789")
        if pause:
            time.sleep(0.2)


@pytest.mark.parametrize("pause", [True, False])
def test_interrupted_upload_is_invisible(make_server, pause):
    # Its own server: a connection the server failed to notice closing would hold the
    # shared one for its whole shutdown timeout.
    srv = make_server(args=["--shutdown-timeout", "2"])
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    interrupt_upload(srv, obj, pause)
    time.sleep(0.2)
    # The partial upload is not the object: registration finds no bytes there.
    seg = {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"}
    body = check_error(srv.post(f"/flows/{fid}/segments", json=seg), 400)
    assert "has not been uploaded" in body["summary"], body
    # A complete upload afterwards works.
    upload(srv, obj, b"x" * 1000)
    assert srv.post(f"/flows/{fid}/segments", json=seg).status_code == 201
    url = get_url_of(srv, fid, obj["object_id"])
    assert srv.session.get(url).content == b"x" * 1000


def test_interrupted_upload_is_released(make_server):
    """libmicrohttpd 0.9.75 may not see a close that arrives in the same packet as the last
    bytes of a streamed upload; the connection timeout then releases the connection and the
    temporary file. Either way nothing is left behind after it."""
    srv = make_server(args=["--shutdown-timeout", "2", "--connection-timeout", "2"])
    fid = make_flow(srv)
    for obj in allocate(srv, fid, 8):  # the close must come with the data: try a few times
        interrupt_upload(srv, obj, pause=False)
    time.sleep(3.5)  # past the 2 s connection timeout, with a margin for a loaded machine
    assert os.listdir(srv.data_dir / "objects" / "tmp") == []
    assert srv.get("/health").status_code == 200
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.5, srv.stderr()  # no request left holding the shutdown


def test_object_too_large(srv):
    fid = make_flow(srv)
    objs = allocate(srv, fid, 3)
    # Declared too large: refused at once.
    r = srv.session.put(objs[0]["put_url"]["url"], data=b"x" * (64 * 1024 + 1),
                        headers={"Content-Type": "video/mp2t"})
    check_error(r, 413)
    # Streamed (chunked) past the cap: refused too.

    def gen():
        for _ in range(70):
            yield b"y" * 1024
    try:
        r = srv.session.put(objs[1]["put_url"]["url"], data=gen(),
                            headers={"Content-Type": "video/mp2t"})
        assert r.status_code in (411, 413), r.status_code
    except requests.ConnectionError:
        pass  # the server may close the connection once it has answered
    # Exactly at the cap: fine.
    upload(srv, objs[2], b"z" * (64 * 1024))
    # The refused ones left nothing behind: they cannot be registered.
    statuses = [srv.post(f"/flows/{fid}/segments",
                         json={"object_id": o["object_id"],
                               "timerange": f"[{i}:0_{i + 1}:0)"}).status_code
                for i, o in enumerate(objs)]
    assert statuses == [400, 400, 201]
    assert len(srv.session.get(get_url_of(srv, fid, objs[2]["object_id"])).content) == 64 * 1024


def test_concurrent_puts(srv):
    fid = make_flow(srv)
    objs = allocate(srv, fid, 16)
    blobs = [os.urandom(4096 + i) for i in range(16)]
    errors = []

    def put(i):
        try:
            with requests.Session() as s:
                r = s.put(objs[i]["put_url"]["url"], data=blobs[i],
                          headers={"Content-Type": "video/mp2t"}, timeout=30)
                if r.status_code != 200:
                    errors.append((i, r.status_code))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=put, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    body = [{"object_id": o["object_id"], "timerange": f"[{i}:0_{i + 1}:0)"}
            for i, o in enumerate(objs)]
    assert srv.post(f"/flows/{fid}/segments", json=body).status_code == 201
    for i, o in enumerate(objs):
        assert srv.session.get(get_url_of(srv, fid, o["object_id"])).content == blobs[i]


def test_reupload_is_refused(srv):
    """An upload URL is good for one upload: once the bytes are there they never change."""
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    upload(srv, obj, b"first")
    r = srv.session.put(obj["put_url"]["url"], data=b"second!", headers={"Content-Type": "text/html"})
    body = check_error(r, 409)
    assert "already been uploaded" in body["summary"], body
    srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                            "timerange": "[0:0_1:0)"})
    g = srv.session.get(get_url_of(srv, fid, obj["object_id"]))
    assert g.content == b"first" and g.headers["Content-Type"] == "video/mp2t"


def test_put_after_registration_is_refused(srv):
    """The reported attack: register a segment, then PUT other bytes with the still valid
    put_url. Refused (409); the get_url serves the registered bytes."""
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    upload(srv, obj, b"the registered bytes")
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    url = get_url_of(srv, fid, obj["object_id"])
    for data, ct in ((b"<script>alert(1)</script>", "text/html"), (b"", "video/mp2t"),
                     (b"x" * 5000, "video/mp2t")):
        check_error(srv.session.put(obj["put_url"]["url"], data=data,
                                    headers={"Content-Type": ct}), 409)
    # Chunked too.
    check_error(srv.session.put(obj["put_url"]["url"], data=iter([b"a", b"b"]),
                                headers={"Content-Type": "text/html"}), 409)
    g = srv.session.get(url)
    assert g.content == b"the registered bytes" and g.headers["Content-Type"] == "video/mp2t"
    assert os.listdir(srv.data_dir / "objects" / "tmp") == []


def test_concurrent_uploads_of_one_object(srv):
    """Uploads of one object that all start before any ends: exactly one wins, whole."""
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    parts = urllib.parse.urlsplit(obj["put_url"]["url"])
    blobs = [bytes([65 + i]) * 20000 for i in range(8)]
    socks = []
    for blob in blobs:  # every request head and half its body first: all past the 409 check
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall((f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   f"video/mp2t\r\nContent-Length: {len(blob)}\r\nConnection: close\r\n\r\n"
                   ).encode() + blob[:10000])
        socks.append(s)
    time.sleep(0.3)
    answers = []
    for s, blob in zip(socks, blobs):
        s.sendall(blob[10000:])
        out = b""
        while b"\r\n" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        answers.append(out.split(b" ", 2)[1])
        s.close()
    assert sorted(answers) == [b"200"] + [b"409"] * 7, answers
    winner = blobs[answers.index(b"200")]
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    assert srv.session.get(get_url_of(srv, fid, obj["object_id"])).content == winner
    assert os.listdir(srv.data_dir / "objects" / "tmp") == []


# ---- what a browser may do with an object (nosniff, sandbox, attachment) ----------------------

def serve_as(srv, ct, data=b"<html><script>alert(document.domain)</script></html>"):
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    r = srv.session.put(obj["put_url"]["url"], data=data, headers={"Content-Type": ct})
    assert r.status_code == 200, r.text
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    return get_url_of(srv, fid, obj["object_id"])


@pytest.mark.parametrize("ct", [
    "text/html", "TEXT/HTML; charset=utf-8", "image/svg+xml", "application/xhtml+xml",
    "text/xml", "application/xml", "application/javascript", "text/javascript", "text/plain",
    "application/json", "application/pdf", "multipart/x-mixed-replace; boundary=x",
    "application/dash+xml", "video/x" + "a" * 200 + "+xml", "nonsense", "text/"])
def test_document_types_are_attachments(srv, ct):
    url = serve_as(srv, ct)
    for method in ("GET", "HEAD"):
        r = srv.session.request(method, url)
        assert r.status_code == 200
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"] == "sandbox"
        assert r.headers["Content-Disposition"] == "attachment", (ct, r.headers)
    r = srv.session.get(url, headers={"Range": "bytes=0-5"})
    assert r.status_code == 206 and r.content == b"<html>"
    assert r.headers["Content-Disposition"] == "attachment"


@pytest.mark.parametrize("ct", [
    "video/mp2t", "video/MP4", "audio/wav", "audio/mpeg; codecs=mp3", "image/jpeg", "image/png",
    "application/mp4", "application/mxf", "application/octet-stream",
    "application/vnd.apple.mpegurl"])
def test_media_types_stay_inline(srv, ct):
    data = os.urandom(3000)
    url = serve_as(srv, ct, data)
    r = srv.session.get(url)
    assert r.content == data and r.headers["Content-Type"] == ct
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    assert "Content-Disposition" not in r.headers
    r = srv.session.get(url, headers={"Range": "bytes=100-199"})  # a player seeks
    assert r.status_code == 206 and r.content == data[100:200]
    assert "Content-Disposition" not in r.headers


def test_no_content_type_is_octet_stream_inline(srv):
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    r = raw_request(srv, (f"PUT {urllib.parse.urlsplit(obj['put_url']['url']).path}?"
                          f"{urllib.parse.urlsplit(obj['put_url']['url']).query} HTTP/1.1\r\n"
                          "Host: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc").encode())
    assert r.startswith(b"HTTP/1.1 200"), r
    srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                            "timerange": "[0:0_1:0)"})
    g = srv.session.get(get_url_of(srv, fid, obj["object_id"]))
    assert g.headers["Content-Type"] == "application/octet-stream"
    assert "Content-Disposition" not in g.headers
    assert g.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_of_the_store_are_nosniff(srv, stored):
    r = srv.session.get(with_query(stored[3], sig="0" * 64))
    check_error(r, 403)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
