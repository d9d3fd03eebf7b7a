#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small S3-compatible server for tests that checks every SigV4 signature with botocore.

    /usr/bin/python3 tests/s3/s3server.py --dir DIR [--port 0] [--access-key AK]
        [--secret-key SK] [--region us-east-1] [--session-token T] [--domain localhost]
        [--ready-file PATH] [--head-quirk no-length|bad-etag]

Objects live under DIR/<bucket>/ as <sha256(key)> plus a .json sidecar (key, content type),
so no key can escape DIR. Operations: bucket PUT (create) and HEAD; object PUT (body and
Content-Type; "If-None-Match: *" makes it conditional as on AWS S3: 412 PreconditionFailed when
the key exists, decided atomically with the write), GET (one "bytes=" range gives 206), HEAD,
DELETE.

Authentication. Every request must carry a SigV4 query-string presignature; bucket PUT/HEAD
may instead be header-signed (Authorization: AWS4-HMAC-SHA256 ...), so botocore clients can
create buckets; with --object-header-auth object requests may be header-signed too (as on AWS
S3: a client uploading to a URL it was given unsigned, TAMS 8.2's presigned: false). The signature is recomputed with botocore.auth.S3SigV4QueryAuth (or
S3SigV4Auth for headers) at the client's X-Amz-Date, over the headers the client names in
X-Amz-SignedHeaders with the values it sent, and compared with hmac.compare_digest. The path is
decoded and re-encoded the way S3 canonicalises it; other query parameters are signed too.
Errors are 403 with an S3 XML body: SignatureDoesNotMatch (with the server's canonical request
and string to sign, as S3 does), AccessDenied ("Request has expired", unsigned, not yet
valid), InvalidAccessKeyId, or AuthorizationQueryParametersError-style messages as
AccessDenied. A session token is accepted as signed unless --session-token pins one.

Bucket addressing. With Host "h[:port]": if h ends in "." + one of the --domain names
(default: localhost), the bucket is everything before that suffix (virtual-hosted, e.g.
"media.localhost:9000" -> bucket "media", path = key); otherwise (an IP address, "localhost"
itself, any other name) the request is path-style: /bucket/key.

Object HEAD answers carry Content-Length and ETag like S3's; --head-quirk makes them wrong on
purpose, for tests of a client that must not take such an answer as an upload: "no-length"
leaves Content-Length out, "bad-etag" sends an ETag without its quotes.

Logging: one line per request on stderr: method, target, status, and the reason of a 403.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
AUTH_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
               "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature")
MAX_BODY = 256 << 20
CLOCK_SKEW = 900  # seconds a request may be dated in the future, as S3


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def parse_amz_date(s):
    try:
        return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        raise S3Error(403, "AccessDenied", "X-Amz-Date must be in the ISO8601 Long Format")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tams-s3server"
    cfg = None  # argparse namespace, set in main()
    lock = threading.Lock()

    # --- authentication -------------------------------------------------------------------

    def canonical_path(self):
        raw = urllib.parse.urlsplit(self.path).path or "/"
        return urllib.parse.quote(urllib.parse.unquote_to_bytes(raw), safe="/~")

    def signed_headers(self, names):
        headers = {}
        for name in names:
            values = self.headers.get_all(name)
            if values is None or not re.match(r"^[a-z0-9-]+$", name):
                raise S3Error(403, "AccessDenied", f"signed header '{name}' is not in the request")
            headers[name] = ",".join(values)
        if "host" not in headers:
            raise S3Error(403, "AccessDenied", "the host header must be signed")
        return headers

    def check_scope(self, credential, amz_date):
        parts = credential.split("/")
        if len(parts) != 5:
            raise S3Error(403, "AccessDenied", f"malformed credential '{credential}'")
        ak, day, region, service, term = parts
        if not hmac.compare_digest(ak.encode(), self.cfg.access_key.encode()):
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does "
                          "not exist in our records.")
        if day != amz_date[:8] or region != self.cfg.region or service != "s3" or \
                term != "aws4_request":
            raise S3Error(403, "AccessDenied", f"bad credential scope '{credential}'")

    def check_time(self, signed_at, expires):
        now = datetime.datetime.now(datetime.timezone.utc)
        if signed_at > now + datetime.timedelta(seconds=CLOCK_SKEW):
            raise S3Error(403, "AccessDenied", "Request is not yet valid")
        if now > signed_at + datetime.timedelta(seconds=expires):
            raise S3Error(403, "AccessDenied", "Request has expired")

    def compare(self, signer, req, timestamp, given):
        req.context["timestamp"] = timestamp
        signer._modify_request_before_signing(req)
        canonical = signer.canonical_request(req)
        to_sign = signer.string_to_sign(req, canonical)
        expected = signer.signature(to_sign, req)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                          "does not match the signature you provided.", CanonicalRequest=canonical,
                          StringToSign=to_sign, SignatureProvided=given)
        return req

    def authenticate(self, allow_header_auth):
        query = urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query,
                                       keep_blank_values=True)
        names = [k for k, _ in query]
        if len(names) != len(set(names)):
            raise S3Error(403, "AccessDenied", "repeated query parameter")
        q = dict(query)
        auth = self.headers.get("Authorization")
        if "X-Amz-Signature" not in q and auth and allow_header_auth:
            return self.authenticate_header(auth, query)
        missing = [k for k in AUTH_PARAMS[:5] + ("X-Amz-Signature",) if k not in q]
        if missing:
            raise S3Error(403, "AccessDenied", "Query-string authentication requires "
                          + ", ".join(missing))
        if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise S3Error(403, "AccessDenied", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256")
        signed_at = parse_amz_date(q["X-Amz-Date"])
        if not re.fullmatch(r"[0-9]{1,6}", q["X-Amz-Expires"]) or \
                not 1 <= int(q["X-Amz-Expires"]) <= 604800:
            raise S3Error(403, "AccessDenied", "X-Amz-Expires must be 1..604800")
        self.check_scope(q["X-Amz-Credential"], q["X-Amz-Date"])
        token = q.get("X-Amz-Security-Token")
        if self.cfg.session_token is not None and token != self.cfg.session_token:
            raise S3Error(403, "InvalidToken", "The provided token is malformed or invalid.")
        self.check_time(signed_at, int(q["X-Amz-Expires"]))
        headers = self.signed_headers(q["X-Amz-SignedHeaders"].split(";"))
        params = [(k, v) for k, v in query if k not in AUTH_PARAMS]
        url = f"http://{headers['host']}{self.canonical_path()}"
        signer = S3SigV4QueryAuth(Credentials(self.cfg.access_key, self.cfg.secret_key, token),
                                  "s3", self.cfg.region, expires=int(q["X-Amz-Expires"]))
        req = AWSRequest(method=self.command, url=url, headers=headers, params=dict(params))
        req = self.compare(signer, req, q["X-Amz-Date"], q["X-Amz-Signature"])
        ours = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query))
        for k in AUTH_PARAMS[:6]:
            if ours.get(k) != q.get(k):  # e.g. a SignedHeaders list botocore would not sign
                raise S3Error(403, "SignatureDoesNotMatch", f"{k} does not match")

    def authenticate_header(self, auth, query):
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
                         r"\s*Signature=([0-9a-f]{64})", auth.strip())
        amz_date = self.headers.get("X-Amz-Date", "")
        if not m:
            raise S3Error(403, "AccessDenied", "malformed Authorization header")
        self.check_scope(m.group(1), amz_date)
        self.check_time(parse_amz_date(amz_date), CLOCK_SKEW)
        headers = self.signed_headers(m.group(2).split(";"))
        body = self.read_body()
        if hashlib.sha256(body).hexdigest() != self.headers.get("X-Amz-Content-SHA256"):
            raise S3Error(403, "XAmzContentSHA256Mismatch", "payload hash does not match")
        creds = Credentials(self.cfg.access_key, self.cfg.secret_key,
                            self.headers.get("X-Amz-Security-Token"))
        req = AWSRequest(method=self.command, url=f"http://{headers['host']}"
                         f"{self.canonical_path()}", headers=headers, params=dict(query),
                         data=body)
        self.compare(S3SigV4Auth(creds, "s3", self.cfg.region), req, amz_date, m.group(3))
        return body

    # --- storage ----------------------------------------------------------------------------

    def locate(self):
        """(bucket, key or None) from the Host header and the path (see the module doc)."""
        hostname = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path, errors="strict")
        for domain in self.cfg.domain:
            if hostname.endswith("." + domain):
                bucket, key = hostname[:-len(domain) - 1], path[1:]
                break
        else:
            bucket, _, key = path[1:].partition("/")
        if not BUCKET_RE.match(bucket):
            raise S3Error(400, "InvalidBucketName", f"invalid bucket name '{bucket}'")
        return bucket, key or None

    def object_paths(self, bucket, key):
        d = os.path.join(self.cfg.dir, bucket)
        h = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        return d, os.path.join(d, h), os.path.join(d, h + ".json")

    def read_body(self):
        if hasattr(self, "_body"):
            return self._body
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self._body = b"".join(chunks)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > MAX_BODY:
                raise S3Error(400, "EntityTooLarge", "body too large")
            self._body = self.rfile.read(n)
        return self._body

    # --- dispatch ---------------------------------------------------------------------------

    def send(self, status, body=b"", headers=None, head=False):
        """A HEAD response carries the Content-Length of the GET (headers) but no body."""
        headers = dict(headers or {})
        length = headers.pop("Content-Length", "0") if head else str(len(body))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", length)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def send_head_without_length(self, headers):
        self.send_response(200)
        for k, v in headers.items():
            if k != "Content-Length":
                self.send_header(k, v)
        self.send_header("Connection", "close")  # nothing else delimits this answer
        self.end_headers()
        self.close_connection = True

    def handle_one(self):
        bucket, key = self.locate()
        body = self.authenticate(allow_header_auth=key is None or self.cfg.object_header_auth)
        d, data_path, meta_path = self.object_paths(bucket, key or "")
        if key is None:
            if self.command == "PUT":
                self.read_body()
                os.makedirs(d, exist_ok=True)
                return self.send(200, headers={"Location": "/" + bucket})
            if self.command == "HEAD":
                if not os.path.isdir(d):
                    return self.send(404, head=True)
                return self.send(200, head=True)
            raise S3Error(405, "MethodNotAllowed", "bucket operation not supported")
        if not os.path.isdir(d):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
        if self.command == "PUT":
            body = self.read_body() if body is None else body
            meta = {"key": key, "content_type": self.headers.get("Content-Type",
                                                                 "binary/octet-stream"),
                    "etag": hashlib.md5(body).hexdigest()}
            cond = self.headers.get("If-None-Match")
            if cond is not None and cond.strip() != "*":
                raise S3Error(501, "NotImplemented", "If-None-Match supports only '*'")
            with self.lock:
                if cond is not None and os.path.exists(data_path):
                    raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions "
                                  "you specified did not hold", Condition="If-None-Match")
                with open(data_path + ".tmp", "wb") as f:
                    f.write(body)
                os.replace(data_path + ".tmp", data_path)
                with open(meta_path, "w") as f:
                    json.dump(meta, f)
            return self.send(200, headers={"ETag": f'"{meta["etag"]}"'})
        if self.command == "DELETE":
            with self.lock:
                for p in (data_path, meta_path):
                    if os.path.exists(p):
                        os.unlink(p)
            return self.send(204)
        if self.command not in ("GET", "HEAD"):
            raise S3Error(405, "MethodNotAllowed", "method not supported")
        with self.lock:
            try:
                with open(meta_path) as f:
                    meta = json.load(f)
                with open(data_path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
        headers = {"Content-Type": meta["content_type"], "ETag": f'"{meta["etag"]}"',
                   "Accept-Ranges": "bytes", "Content-Length": str(len(data))}
        if self.command == "HEAD" and self.cfg.head_quirk == "bad-etag":
            headers["ETag"] = meta["etag"]
        if self.command == "HEAD" and self.cfg.head_quirk == "no-length":
            return self.send_head_without_length(headers)
        status, rng = 200, self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            first, last = m.group(1), m.group(2)
            if first:
                start, end = int(first), min(int(last) if last else len(data) - 1,
                                             len(data) - 1)
            else:
                start, end = max(len(data) - int(last), 0), len(data) - 1
            if start >= len(data) or (last and first and int(last) < int(first)) or end < start:
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                              RangeRequested=rng)
            data, status = data[start:end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{int(headers['Content-Length'])}"
            headers["Content-Length"] = str(len(data))
        return self.send(status, data, headers, head=self.command == "HEAD")

    def dispatch(self):
        self.__dict__.pop("_body", None)  # one handler serves a whole keep-alive connection
        self.logged = False
        try:
            try:
                self.handle_one()
            except (ValueError, UnicodeError) as e:
                raise S3Error(400, "InvalidRequest", f"malformed request: {e}")
            except OSError as e:
                raise S3Error(500, "InternalError", f"storage error: {e}")
        except S3Error as e:
            self.logged = True
            self.log_message("%s %s -> %d %s: %s", self.command, self.path, e.status, e.code,
                             e.message)
            extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in e.extra.items())
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{e.code}</Code>'
                    f"<Message>{escape(e.message)}</Message><Resource>{escape(self.path)}"
                    f"</Resource>{extra}<RequestId>0</RequestId></Error>").encode()
            if not hasattr(self, "_body"):
                self.close_connection = True  # the request body, if any, was not read
            self.send(e.status, body, {"Content-Type": "application/xml",
                                       **({"Connection": "close"} if self.close_connection
                                          else {})}, head=self.command == "HEAD")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = dispatch

    def log_request(self, code="-", size="-"):
        if not getattr(self, "logged", False):  # errors are logged once, with their reason
            self.log_message("%s %s -> %s", self.command, self.path, code)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--access-key", default="AKIAIOSFODNN7EXAMPLE")
    ap.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--domain", action="append", default=None)
    ap.add_argument("--ready-file")
    ap.add_argument("--object-header-auth", action="store_true")
    ap.add_argument("--head-quirk", choices=("no-length", "bad-etag"), default=None)
    Handler.cfg = cfg = ap.parse_args()
    cfg.domain = cfg.domain or ["localhost"]
    os.makedirs(cfg.dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(f"s3server listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    if cfg.ready_file:
        with open(cfg.ready_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(cfg.ready_file + ".tmp", cfg.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
