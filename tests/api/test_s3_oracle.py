# SPDX-License-Identifier: Apache-2.0
"""SigV4 oracle: tests/s3/s3server.py checks every presigned request with botocore.

First the oracle itself is proved with URLs that botocore presigns (path-style and
virtual-hosted): untouched URLs work, tampered, expired and wrongly keyed ones get 403. Then the
C signer (src/media/sigv4.c, driven through the test_sigv4 binary's `presign` mode) must be
accepted by the same server. The binary is looked up in $TAMS_BUILD_DIR, else next to
$TAMSD_BIN, else build-test/ and build/; if it is missing the C tests fail: build first.
"""
import datetime
import os
import pathlib
import subprocess
import sys
import time
import types
import urllib.parse
from unittest import mock

import botocore.auth
import botocore.session
import pytest
import requests
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
S3SERVER = ROOT / "tests" / "s3" / "s3server.py"
AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-2"
BUCKET = "tams-media"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s3")
    ready = tmp / "ready"
    log = open(tmp / "s3server.log", "wb")
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(S3SERVER), "--port", "0", "--dir", str(tmp / "data"),
         "--access-key", AK, "--secret-key", SK, "--region", REGION, "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 20
    while not ready.exists():
        assert proc.poll() is None, (tmp / "s3server.log").read_text()
        assert time.time() < deadline, "s3server did not start"
        time.sleep(0.05)
    port = int(ready.read_text())
    client(port, "path").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def client(port, style, secret=SK, token=None):
    host = "127.0.0.1" if style == "path" else "localhost"
    return botocore.session.get_session().create_client(
        "s3", region_name=REGION, endpoint_url=f"http://{host}:{port}", aws_access_key_id=AK,
        aws_secret_access_key=secret, aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}))


def presign(port, style, op, key, expires=300, at=None, secret=SK, **params):
    c = client(port, style, secret=secret)
    args = dict(Params={"Bucket": BUCKET, "Key": key, **params}, ExpiresIn=expires)
    if at is None:
        return c.generate_presigned_url(op, **args)

    class PinnedClock(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime.utcfromtimestamp(at)

    with mock.patch.object(botocore.auth, "datetime", types.SimpleNamespace(datetime=PinnedClock)):
        return c.generate_presigned_url(op, **args)


def send(method, url, **kw):
    """Connect to 127.0.0.1 whatever the URL's host (*.localhost need not resolve), sending
    the URL's host[:port] as Host."""
    parts = urllib.parse.urlsplit(url)
    headers = dict(kw.pop("headers", {}))
    headers["Host"] = parts.netloc
    local = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    return requests.request(method, local, headers=headers, timeout=30, **kw)


def assert_refused(resp, code="SignatureDoesNotMatch", message=None):
    assert resp.status_code == 403, (resp.status_code, resp.text)
    assert f"<Code>{code}</Code>" in resp.text, resp.text
    if message:
        assert message in resp.text, resp.text


def with_param(url, name, value):
    """The URL with query parameter `name` set to `value` (raw, encoded here)."""
    parts = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    q = [(k, value if k == name else v) for k, v in q]
    return parts._replace(query=urllib.parse.urlencode(q, quote_via=urllib.parse.quote)).geturl()


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_botocore_presigned_put_then_get(s3, style):
    key = f"flows/{style}/seg 0001+é.ts"
    body = os.urandom(70000)
    url = presign(s3, style, "put_object", key, ContentType="video/mp2t")
    if style == "virtual":
        assert urllib.parse.urlsplit(url).hostname == f"{BUCKET}.localhost"
    r = send("PUT", url, data=body, headers={"Content-Type": "video/mp2t"})
    assert r.status_code == 200, r.text
    r = send("GET", presign(s3, style, "get_object", key))
    assert r.status_code == 200, r.text
    assert r.content == body
    assert r.headers["Content-Type"] == "video/mp2t"


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_range_get_is_206(s3, style):
    key = f"range-{style}"
    body = bytes(range(256)) * 8
    assert send("PUT", presign(s3, style, "put_object", key), data=body).status_code == 200
    url = presign(s3, style, "get_object", key)
    r = send("GET", url, headers={"Range": "bytes=100-299"})
    assert r.status_code == 206, r.text
    assert r.content == body[100:300]
    assert r.headers["Content-Range"] == f"bytes 100-299/{len(body)}"
    r = send("GET", url, headers={"Range": "bytes=-10"})
    assert (r.status_code, r.content) == (206, body[-10:])
    assert send("GET", url, headers={"Range": "bytes=5000-"}).status_code == 416


def test_head_and_delete(s3):
    key = "head/delete me"
    assert send("PUT", presign(s3, "path", "put_object", key), data=b"12345").status_code == 200
    r = send("HEAD", presign(s3, "path", "head_object", key))
    assert (r.status_code, r.headers["Content-Length"]) == (200, "5")
    assert send("DELETE", presign(s3, "path", "delete_object", key)).status_code == 204
    r = send("GET", presign(s3, "path", "get_object", key))
    assert r.status_code == 404 and "<Code>NoSuchKey</Code>" in r.text


def test_tampered_urls_are_refused(s3):
    key = "tamper/target"
    assert send("PUT", presign(s3, "path", "put_object", key), data=b"x").status_code == 200
    url = presign(s3, "path", "get_object", key)
    assert send("GET", url).status_code == 200
    sig = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in (url.replace("/tamper/target?", "/tamper/targeT?"),
                url.replace(sig, flipped),
                with_param(url, "X-Amz-Expires", "301"),
                url + "&response-content-type=text%2Fhtml",
                url.replace(f"/{BUCKET}/", "/other-bucket/")):
        assert bad != url
        assert_refused(send("GET", bad))
    assert_refused(send("GET", url.split("?")[0]), "AccessDenied")  # not signed at all
    assert_refused(send("GET", with_param(url, "X-Amz-Date", "20200101T000000Z")), "AccessDenied")
    assert send("HEAD", url).status_code == 403  # a GET signature does not cover HEAD
    assert send("GET", url).status_code == 200  # the original still works


def test_signed_content_type_must_match(s3):
    url = presign(s3, "path", "put_object", "ct", ContentType="video/mp2t")
    assert_refused(send("PUT", url, data=b"x", headers={"Content-Type": "text/html"}))
    assert_refused(send("PUT", url, data=b"x"), "AccessDenied")  # signed header missing


def test_expired_url_is_refused(s3):
    now = int(time.time())
    old = presign(s3, "path", "get_object", "expired", expires=60, at=now - 120)
    assert "X-Amz-Expires=60" in old
    assert_refused(send("GET", old), "AccessDenied", "Request has expired")
    # signed in the past but still valid: accepted, so the clock pinning itself is sound
    assert send("PUT", presign(s3, "path", "put_object", "expired", expires=3600, at=now - 120),
                data=b"x").status_code == 200


def test_wrong_credentials_are_refused(s3):
    assert_refused(send("GET", presign(s3, "path", "get_object", "any", secret=SK + "x")))
    c = botocore.session.get_session().create_client(
        "s3", region_name=REGION, endpoint_url=f"http://127.0.0.1:{s3}",
        aws_access_key_id="AKIAOTHERKEY0000", aws_secret_access_key=SK,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = c.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "any"})
    assert_refused(send("GET", url), "InvalidAccessKeyId")
    c = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{s3}",
        aws_access_key_id=AK, aws_secret_access_key=SK,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = c.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "any"})
    assert_refused(send("GET", url), "AccessDenied")  # credential scope names another region


# --- the C signer ----------------------------------------------------------------------------

def c_signer():
    if os.environ.get("TAMS_BUILD_DIR"):
        dirs = [pathlib.Path(os.environ["TAMS_BUILD_DIR"])]
    else:
        dirs = ([pathlib.Path(os.environ["TAMSD_BIN"]).parent] if "TAMSD_BIN" in os.environ
                else []) + [ROOT / "build-test", ROOT / "build"]
    for d in dirs:
        if (d / "test_sigv4").is_file():
            return d / "test_sigv4"
    pytest.fail("test_sigv4 not found in " + ", ".join(map(str, dirs))
                + ": build first (cmake --build <dir>) or set TAMS_BUILD_DIR")


def c_presign(method, host, path, now=None, expires=300, secret=SK, token=None, headers=()):
    now = int(time.time()) if now is None else now
    args = [str(c_signer()), "presign", method, host, path, REGION, AK, secret, str(now),
            str(expires), token or "-", *headers]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_c_presigned_put_then_get(s3, style):
    key = f"c/{style}/seg 0001+=~é日本.ts"
    if style == "path":
        host, path = f"127.0.0.1:{s3}", f"/{BUCKET}/{key}"
    else:
        host, path = f"{BUCKET}.localhost:{s3}", f"/{key}"
    body = os.urandom(50000)
    put = c_presign("PUT", host, path, headers=["content-type:video/mp2t"])
    assert "X-Amz-SignedHeaders=content-type%3Bhost" in put
    r = send("PUT", put, data=body, headers={"Content-Type": "video/mp2t"})
    assert r.status_code == 200, r.text
    get = c_presign("GET", host, path)
    r = send("GET", get)
    assert r.status_code == 200, r.text
    assert r.content == body and r.headers["Content-Type"] == "video/mp2t"
    r = send("GET", get, headers={"Range": "bytes=10-19"})
    assert (r.status_code, r.content) == (206, body[10:20])
    # botocore reads the same object back: the C key encoding names the same key
    r = send("GET", presign(s3, style, "get_object", key))
    assert r.status_code == 200 and r.content == body


def test_c_presigned_tampered_or_wrong_is_refused(s3):
    host, path = f"127.0.0.1:{s3}", f"/{BUCKET}/c/tamper"
    assert send("PUT", c_presign("PUT", host, path), data=b"x").status_code == 200
    url = c_presign("GET", host, path)
    assert send("GET", url).status_code == 200
    assert_refused(send("GET", url.replace("/c/tamper?", "/c/tampeR?")))
    assert_refused(send("GET", with_param(url, "X-Amz-Expires", "299")))
    assert_refused(send("GET", url + "&x-id=GetObject"))
    assert_refused(send("GET", c_presign("GET", host, path, secret=SK[:-1])))
    assert_refused(send("GET", c_presign("GET", host, path, now=int(time.time()) - 600,
                                         expires=60)), "AccessDenied", "Request has expired")


def test_c_presigned_session_token(s3):
    host, path = f"127.0.0.1:{s3}", f"/{BUCKET}/c/token"
    token = "FwoGZXIvYXdzEJr//////////wEaDH+tok/en=="
    assert send("PUT", c_presign("PUT", host, path, token=token), data=b"t").status_code == 200
    url = c_presign("GET", host, path, token=token)
    assert "X-Amz-Security-Token=" in url
    assert send("GET", url).content == b"t"
    assert_refused(send("GET", with_param(url, "X-Amz-Security-Token", token + "x")))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
