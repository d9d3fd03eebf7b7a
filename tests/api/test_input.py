# SPDX-License-Identifier: Apache-2.0
"""Request input at and past its limits: query strings of any parameter count within the 8 KiB
target, text that is not strict UTF-8 (bodies, query values, path parameters), JSON bodies past
the limits of src/http/limits.h, and bodies not sent as application/json. Each refusal is a 4xx
with the spec's error body and changes nothing."""
import json
import socket
import uuid

import pytest

from conftest import Server, VIDEO_RATE, check_error

JSON_CT = {"Content-Type": "application/json"}
VIDEO = "urn:x-nmos:format:video"

def new_id():
    return str(uuid.uuid4())


def video_flow(fid=None, **extra):
    doc = {"id": fid or new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    doc.update(extra)
    return doc


def make_flow(srv, **extra):
    doc = video_flow(**extra)
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def raw_get(srv, target, timeout=10):
    """GET target on a fresh connection; returns (status, body bytes). The server must answer."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            b = s.recv(65536)  # a timeout here is the bug this file guards against
            if not b:
                break
            chunks.append(b)
    resp = b"".join(chunks)
    assert resp.startswith(b"HTTP/1.1 "), (target[:80], resp[:200])
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def check_raw_error(status, body, want):
    assert status == want, (status, body[:200])
    doc = json.loads(body)
    assert set(doc) >= {"type", "summary", "time"}, doc
    return doc


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("input"))
    s.start()
    yield s
    s.stop()


# ---- query strings --------------------------------------------------------------------------

@pytest.mark.parametrize("count,form", [
    (129, "p{i}=1"), (300, "p{i}=1"), (500, "p{i}=1"), (1000, "p{i}=1"), (2700, "a"),
    (4091, "a"), (1800, "{i}"),
])
def test_query_parameter_count_is_answered(srv, count, form):
    """libmicrohttpd 0.9.75 split the query into its 16 KiB connection memory and left a
    request of about 300 or more parameters unanswered; every query within 8 KiB is answered."""
    q = "&".join(form.format(i=i) for i in range(count))
    target = ("/service?" + q).encode()
    assert len(target) <= 8192
    doc = check_raw_error(*raw_get(srv, target), 400)
    assert "too many query parameters (at most 128)" in doc["summary"]


def test_query_at_the_limits(srv):
    q = "&".join(f"p{i}=1" for i in range(128))
    assert raw_get(srv, ("/service?" + q).encode())[0] == 200
    # a target of exactly 8192 bytes is read, one more is 414
    pad = 8192 - len("/service?x=")
    assert raw_get(srv, b"/service?x=" + b"a" * pad)[0] == 200
    check_raw_error(*raw_get(srv, b"/service?x=" + b"a" * (pad + 1)), 414)
    # the many-parameter refusal leaves keep-alive connections working
    r = srv.get("/service?" + "&".join("a" for _ in range(3000)))
    check_error(r, 400)
    assert srv.get("/service").status_code == 200


# ---- text in query strings and paths ------------------------------------------------------

BAD_QUERY_TEXT = ["%C0%AF", "%C0%80", "%E0%80%AF", "%F0%80%80%AF", "%ED%A0%BD%ED%B8%80",
                  "%ED%A0%80", "%ED%B0%80", "%F4%90%80%80", "%F5%80%80%80", "%FF", "%C3", "%80"]


@pytest.mark.parametrize("text", BAD_QUERY_TEXT)
def test_query_text_must_be_utf8(srv, text):
    doc = check_raw_error(*raw_get(srv, f"/flows?label={text}".encode()), 400)
    assert "UTF-8" in doc["summary"]
    check_raw_error(*raw_get(srv, f"/flows?tag.{text}=1".encode()), 400)


def test_raw_query_and_path_bytes_must_be_utf8(srv):
    fid = make_flow(srv, tags={"t": "v"})
    check_raw_error(*raw_get(srv, b"/flows?label=\xc0\xaf"), 400)
    assert raw_get(srv, b"/flows?label=\xc3\xa9")[0] == 200
    for bad in (b"%C0%AF", b"%ED%A0%80", b"\xff"):
        doc = check_raw_error(*raw_get(srv, f"/flows/{fid}/tags/".encode() + bad), 400)
        assert "UTF-8" in doc["summary"]
    r = srv.delete(f"/flows/{fid}/tags/%ED%A0%80")
    check_error(r, 400)
    assert srv.get(f"/flows/{fid}/tags").json() == {"t": "v"}


# ---- text in JSON bodies ------------------------------------------------------------------

# Text json-c 0.16 took with JSON_TOKENER_VALIDATE_UTF8 (it checks only the byte count of each
# sequence and turns \u escapes of lone surrogates into U+FFFD), and text it never took.
BAD_TEXT = {
    "overlong 2-byte '/'": b'"\xc0\xaf"',
    "overlong NUL": b'"\xc0\x80"',
    "overlong 3-byte": b'"\xe0\x80\xaf"',
    "overlong 4-byte": b'"\xf0\x80\x80\xaf"',
    "CESU-8 surrogate pair": b'"\xed\xa0\xbd\xed\xb8\x80"',
    "CESU-8 lone high surrogate": b'"\xed\xa0\x80"',
    "lone low surrogate": b'"\xed\xb0\x80"',
    "above U+10FFFF": b'"\xf4\x90\x80\x80"',
    "F5 lead byte": b'"\xf5\x80\x80\x80"',
    "5-byte form": b'"\xf8\x88\x80\x80\x80"',
    "cut short": b'"\xc3"',
    "stray continuation": b'"\x80"',
    "escaped lone high surrogate": b'"\\ud800"',
    "escaped lone low surrogate": b'"\\udc00"',
    "escaped high then letter": b'"\\ud800\\u0041"',
    "escaped low then high": b'"\\udc00\\ud800"',
    "raw tab": b'"a\tb"',
    "raw newline": b'"a\nb"',
}
GOOD_TEXT = {
    "e-acute": "\u00e9",
    "emoji by escape pair": "\U0001f600",
    "U+FFFE": "\ufffe",
    "U+10FFFF": "\U0010ffff",
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_body_text_must_be_utf8(srv, name):
    fid = make_flow(srv, label="before")
    r = srv.put(f"/flows/{fid}/label", data=BAD_TEXT[name], headers=JSON_CT)
    doc = check_error(r, 400)
    assert "not valid JSON" in doc["summary"]
    assert srv.get(f"/flows/{fid}/label").json() == "before"
    # the same text anywhere in a whole flow
    doc = video_flow(fid)
    raw = json.dumps(doc).encode().replace(b'"video/h264"', BAD_TEXT[name])
    check_error(srv.put(f"/flows/{fid}", data=raw, headers=JSON_CT), 400)
    assert srv.get(f"/flows/{fid}").json()["codec"] == "video/h264"


@pytest.mark.parametrize("name", sorted(GOOD_TEXT))
def test_body_text_valid_utf8_round_trips(srv, name):
    fid = make_flow(srv)
    r = srv.put(f"/flows/{fid}/label", json=GOOD_TEXT[name])  # json.dumps escapes as \uXXXX
    assert r.status_code == 204, r.text
    assert srv.get(f"/flows/{fid}/label").json() == GOOD_TEXT[name]
    raw = json.dumps(GOOD_TEXT[name], ensure_ascii=False).encode()
    assert srv.put(f"/flows/{fid}/label", data=raw, headers=JSON_CT).status_code == 204
    assert srv.get(f"/flows/{fid}/label").json() == GOOD_TEXT[name]


def test_single_quoted_names_refused(srv):
    before = srv.get("/service").json()
    r = srv.post("/service", data=b"{'name':'x'}", headers=JSON_CT)
    assert "single-quoted" in check_error(r, 400)["summary"]
    assert srv.get("/service").json() == before


# ---- JSON limits --------------------------------------------------------------------------

def nested(levels, inner="1"):
    """levels arrays around inner: the innermost value is at level levels + 1."""
    return "[" * levels + inner + "]" * levels


def test_depth(srv):
    """A flow nested deeper than json-c's default depth used to be stored, and then every read
    of its document (GET /flows/{id}/label, storage allocation) failed: 500."""
    fid = new_id()
    # the flow is level 1, the value of `custom` level 2: 31 arrays put the 1 at level 33
    raw = json.dumps(video_flow(fid, custom="X")).replace('"X"', nested(31)).encode()
    doc = check_error(srv.put(f"/flows/{fid}", data=raw, headers=JSON_CT), 400)
    assert "deeper than 32 levels" in doc["summary"]
    check_error(srv.get(f"/flows/{fid}"), 404)
    # 32 levels is stored, and read back by every endpoint
    raw = json.dumps(video_flow(fid, custom="X", label="deep")).replace('"X"', nested(30)).encode()
    assert srv.put(f"/flows/{fid}", data=raw, headers=JSON_CT).status_code == 201
    assert srv.get(f"/flows/{fid}/label").json() == "deep"
    assert srv.post(f"/flows/{fid}/storage", json={"limit": 1}).status_code == 201


def test_members_per_object(srv):
    before = srv.get("/service").json()
    body = "{" + ",".join(f'"m{i}":0' for i in range(4097)) + "}"
    doc = check_error(srv.post("/service", data=body, headers=JSON_CT), 400)
    assert "more than 4096 members" in doc["summary"]
    fid = new_id()
    tags = {f"t{i}": "v" for i in range(4097)}
    doc = check_error(srv.put(f"/flows/{fid}", json=video_flow(fid, tags=tags)), 400)
    assert "more than 4096 members" in doc["summary"]
    check_error(srv.get(f"/flows/{fid}"), 404)
    assert srv.get("/service").json() == before


def test_dense_bodies(srv):
    """Bodies whose JSON objects would cost json-c hundreds of times their size."""
    fid = make_flow(srv)
    for body, what in (("[" + ",".join(["{}"] * 5000) + "]", "arrays and objects"),
                       ("[" + ",".join(["[]"] * 5000) + "]", "arrays and objects"),
                       ("[" + ",".join(["0"] * 40000) + "]", "JSON values"),
                       ("[" + ",".join(['""'] * 40000) + "]", "JSON values")):
        doc = check_error(srv.post(f"/flows/{fid}/segments", data=body, headers=JSON_CT), 400)
        assert what in doc["summary"], doc
    assert srv.get(f"/flows/{fid}/segments").json() == []


def test_items_per_array(make_server):
    srv = make_server(args=["--max-body-bytes", "4M"])
    fid = make_flow(srv)
    body = "[" + ",".join(["0"] * 262145) + "]"
    body += " " * (8 * 262146 - len(body))  # long enough for its values
    doc = check_error(srv.post(f"/flows/{fid}/segments", data=body, headers=JSON_CT), 400)
    assert "more than 262144 items" in doc["summary"]


def test_many_segments_in_one_post(srv):
    """A bulk POST of many ordinary segments is far inside every limit."""
    fid = make_flow(srv)
    n = 10000
    body = [{"object_id": f"ext-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
             "get_urls": [{"url": f"http://media.example.com/{i}.ts", "label": "ext"}]}
            for i in range(n)]
    r = srv.post(f"/flows/{fid}/segments", json=body, timeout=120)
    assert r.status_code == 201, r.text[:300]
    r = srv.get(f"/flows/{fid}", params={"include_timerange": "true"})
    assert r.json()["timerange"] == f"[0:0_{n}:0)"


# ---- content type -------------------------------------------------------------------------

@pytest.mark.parametrize("raw,headers", [
    (b'"x"', {}),
    (b"x", {}),
    (b'"x"', {"Content-Type": "text/plain"}),
    (b"x", {"Content-Type": "text/plain"}),
    (b"x", JSON_CT),
])
def test_body_not_json_is_400(srv, raw, headers):
    """400 whatever the Content-Type: the spec lists 400 and never 415 (docs/decisions.md)."""
    fid = make_flow(srv, label="before")
    check_error(srv.put(f"/flows/{fid}/label", data=raw, headers=headers), 400)
    assert srv.get(f"/flows/{fid}/label").json() == "before"
