# SPDX-License-Identifier: Apache-2.0
"""Authentication and authorisation: the route-group x credential x scheme matrix, safe
defaults, the credentials file, principals in created_by/updated_by, metrics and throttling."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import BIN, Server, check_error, free_port

SCOPES = ("read", "write", "delete", "admin")
CHALLENGE = 'Bearer realm="tamsd", Basic realm="tamsd"'
JWT_SECRET = "jwt-test-secret-0123456789-abcdefghijklmnop"
ISSUER, AUDIENCE = "https://idp.example", "tamsd-tests"
VIDEO = "urn:x-nmos:format:video"


def cli(args, data_dir, stdin=None, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    e.update(env or {})
    return subprocess.run([BIN] + args + ["--data-dir", str(data_dir)], input=stdin,
                          capture_output=True, text=True, env=e, timeout=60)


def add_user(data_dir, name, scopes, password):
    r = cli(["user", "add", name, "--scopes", scopes], data_dir, stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    assert password not in r.stdout + r.stderr


def add_token(data_dir, name, scopes):
    r = cli(["token", "create", "--name", name, "--scopes", scopes], data_dir)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("tams_") and len(token) == 61, token
    return token


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(claims, secret=JWT_SECRET, alg="HS256"):
    si = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + \
        b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
    return si + "." + b64url(sig)


def claims(sub, scope, **kw):
    c = {"sub": sub, "scope": scope, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600}
    c.update(kw)
    return c


def video_flow(fid=None, sid=None):
    return {"id": fid or str(uuid.uuid4()), "source_id": sid or str(uuid.uuid4()), "format": VIDEO,
            "codec": "video/h264", "container": "video/mp2t",
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}


class Creds:
    """One user, one API token and one JWT per scope, plus wrong ones for each scheme."""

    def __init__(self, data_dir):
        self.passwords = {s: f"pw-{s}-{uuid.uuid4().hex[:8]}" for s in SCOPES}
        for s in SCOPES:
            add_user(data_dir, f"user-{s}", s, self.passwords[s])
        self.tokens = {s: add_token(data_dir, f"token-{s}", s) for s in SCOPES}
        self.jwts = {s: jwt_hs256(claims(f"jwt-{s}", s)) for s in SCOPES}
        good = self.tokens["read"]
        self.wrong_token = good[:18] + ("A" if good[18] != "A" else "B") + good[19:]

    def request_kw(self, scheme, who):
        """headers/params for requests, and the principal name expected on success."""
        if who == "none":
            return {}
        if scheme == "basic":
            if who == "wrong":
                return {"auth": ("user-read", "not-the-password")}
            return {"auth": (f"user-{who}", self.passwords[who])}
        if scheme == "bearer":
            tok = self.wrong_token if who == "wrong" else self.tokens[who]
            return {"headers": {"Authorization": "Bearer " + tok}}
        if scheme == "access_token":
            tok = self.wrong_token if who == "wrong" else self.tokens[who]
            return {"params": {"access_token": tok}}
        if scheme == "jwt":
            tok = (jwt_hs256(claims("jwt-read", "read"), secret="x" * 40) if who == "wrong"
                   else self.jwts[who])
            return {"headers": {"Authorization": "Bearer " + tok}}
        raise AssertionError(scheme)

    @staticmethod
    def principal(scheme, who):
        return {"basic": "user-", "bearer": "token-", "access_token": "token-",
                "jwt": "jwt-"}[scheme] + who


def start_auth_server(tmp, args=(), env=None, with_creds=True):
    data_dir = tmp / "data"
    creds = Creds(data_dir) if with_creds else None
    e = {"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET, "TAMS_JWT_ISSUER": ISSUER,
         "TAMS_JWT_AUDIENCE": AUDIENCE}
    e.update(env or {})
    srv = Server(tmp, args=list(args), env=e, data_dir=data_dir)
    return srv.start(), creds


@pytest.fixture(scope="module")
def authsrv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth")
    srv, creds = start_auth_server(tmp, args=["--auth-fail-limit", "0"])
    admin = creds.request_kw("bearer", "admin")
    doc = video_flow()
    assert srv.put(f"/flows/{doc['id']}", json=doc, **admin).status_code == 201
    obj = "ext-" + str(uuid.uuid4())
    seg = {"object_id": obj, "timerange": "[0:0_1:0)",
           "get_urls": [{"url": "http://media.example.com/x.ts", "label": "ext"}]}
    r = srv.post(f"/flows/{doc['id']}/segments", json=seg, **admin)
    assert r.status_code == 201, r.text
    srv.fixture = {"flow": doc["id"], "source": doc["source_id"], "object": obj, "admin": admin,
                   "seg": 1}
    yield srv, creds
    srv.stop()


# --- the matrix ---------------------------------------------------------------------------------
# (group, method, path, body, scope needed, success status, prep). Paths use {flow}, {source},
# {object}, {new}; prep runs with admin before the request so success is possible.

def _prep_flow(srv, fx, ids):
    doc = video_flow(ids["new"])
    assert srv.put(f"/flows/{ids['new']}", json=doc, **fx["admin"]).status_code == 201


def _prep_source_label(srv, fx, ids):
    assert srv.put(f"/sources/{fx['source']}/label", json="l", **fx["admin"]).status_code == 204


def _prep_flow_tag(srv, fx, ids):
    assert srv.put(f"/flows/{fx['flow']}/tags/t", json="v", **fx["admin"]).status_code == 204


def _segment_body(fx, ids):
    fx["seg"] += 1
    n = fx["seg"]
    return {"object_id": "ext-" + ids["new"], "timerange": f"[{n}:0_{n}:500000000)",
            "get_urls": [{"url": "http://media.example.com/y.ts", "label": "ext"}]}


OPS = [
    ("service", "GET", "/service", None, "read", 200, None),
    ("service", "GET", "/service/storage-backends", None, "read", 200, None),
    ("service", "POST", "/service", {"name": "tamsd-auth"}, "write", 200, None),
    ("service", "GET", "/metrics", None, "read", 200, None),
    ("sources", "GET", "/sources", None, "read", 200, None),
    ("sources", "GET", "/sources/{source}", None, "read", 200, None),
    ("sources", "PUT", "/sources/{source}/label", "lbl", "write", 204, None),
    ("sources", "DELETE", "/sources/{source}/label", None, "delete", 204, _prep_source_label),
    ("flows", "GET", "/flows", None, "read", 200, None),
    ("flows", "HEAD", "/flows/{flow}", None, "read", 200, None),
    ("flows", "PUT", "/flows/{new}", "flow", "write", 201, None),
    ("flows", "DELETE", "/flows/{new}", None, "delete", 204, _prep_flow),
    ("flow properties", "GET", "/flows/{flow}/tags", None, "read", 200, None),
    ("flow properties", "PUT", "/flows/{flow}/tags/t", "v", "write", 204, None),
    ("flow properties", "DELETE", "/flows/{flow}/tags/t", None, "delete", 204, _prep_flow_tag),
    ("flow properties", "PUT", "/flows/{flow}/max_bit_rate", 5000, "write", 204, None),
    ("segments", "GET", "/flows/{flow}/segments", None, "read", 200, None),
    ("segments", "POST", "/flows/{flow}/segments", "segment", "write", 201, None),
    ("storage", "POST", "/flows/{flow}/storage", {"limit": 1}, "write", 201, None),
    ("objects", "GET", "/objects/{object}", None, "read", 200, None),
    ("deletion", "DELETE", "/flows/{flow}/segments?timerange=[900:0_901:0)", None, "delete", 204,
     None),
    ("deletion", "GET", "/flow-delete-requests", None, "read", 200, None),
    ("webhooks", "GET", "/service/webhooks", None, "read", 200, None),
]
SCHEMES = ("basic", "bearer", "access_token", "jwt")
WHO = ("wrong",) + SCOPES
CASES = [(op, "none", "none") for op in OPS] + \
    [(op, scheme, who) for op in OPS for scheme in SCHEMES for who in WHO]


def _id(case):
    op, scheme, who = case
    return f"{op[1]} {op[2]} {scheme} {who}"


def run_case(srv, creds, case, prefix=""):
    """One operation of the matrix with one credential, at prefix + path; checks the status
    (and the error body) against the scopes and returns the answer and the request's kw."""
    (group, method, path, body, need, ok_status, prep), scheme, who = case
    fx = srv.fixture
    ids = {"new": str(uuid.uuid4())}
    if prep:
        prep(srv, fx, ids)
    url = path.format(flow=fx["flow"], source=fx["source"], object=fx["object"], new=ids["new"])
    kw = creds.request_kw(scheme, who) if scheme != "none" else {}
    if body == "flow":
        kw["json"] = video_flow(ids["new"])
        if prefix == "/tams/v8.2":  # 8.2 needs a rate or vfr (docs/tams-8.2-changes.md, 14)
            kw["json"]["essence_parameters"]["frame_rate"] = {"numerator": 25, "denominator": 1}
    elif body == "segment":
        kw["json"] = _segment_body(fx, ids)
    elif body is not None:
        kw["json"] = body
    if prefix:
        r = srv.session.request(method, srv.url + prefix + url, timeout=30, **kw)
    else:
        r = srv.request(method, url, **kw)
    if who in ("none", "wrong"):
        expect = 401
    elif who == need or who == "admin":
        expect = ok_status
    else:
        expect = 403
    assert r.status_code == expect, (group, method, url, scheme, who, r.status_code, r.text)
    if expect in (401, 403) and method != "HEAD":
        check_error(r, expect)
    return r, kw


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matrix(authsrv, case):
    srv, creds = authsrv
    r, kw = run_case(srv, creds, case)
    if r.status_code == 401:
        assert r.headers.get("WWW-Authenticate") == CHALLENGE
    # secrets never come back
    for v in (kw.get("auth") or ("", ""))[1:] + tuple((kw.get("params") or {}).values()):
        if v:
            assert v not in r.text and v not in str(r.headers)


# TAMS 8.2 (docs/tams-8.2-changes.md, 3): the same scopes under /tams/v8.2, for the routes both
# versions have and for those new in 8.2. One scheme: the schemes are the 7.0 matrix's.
OPS_82 = [op for op in OPS if op[2] != "/metrics"] + [
    ("profiles", "GET", "/service/profiles", None, "read", 200, None),
    ("profiles", "POST", "/service/profiles/{new}",
     {"label": "p", "flow_metadata": {"format": VIDEO, "codec": "video/h264",
                                      "container": "video/mp2t",
                                      "essence_parameters": {
                                          "frame_width": 1920, "frame_height": 1080,
                                          "frame_rate": {"numerator": 25, "denominator": 1}}}},
     "write", 201, None),
]
CASES_82 = [(op, "bearer", who) for op in OPS_82 for who in WHO]


@pytest.mark.parametrize("case", CASES_82, ids=[_id(c) for c in CASES_82])
def test_matrix_82(authsrv, case):
    srv, creds = authsrv
    run_case(srv, creds, case, "/tams/v8.2")


def test_open_routes_need_no_credential(authsrv):
    srv, creds = authsrv
    for kw in ({}, creds.request_kw("bearer", "wrong"), creds.request_kw("basic", "wrong")):
        for path in ("/health", "/ready"):
            r = srv.get(path, **kw)
            assert r.status_code == 200, (path, r.text)
    r = srv.request("OPTIONS", "/flows")
    assert r.status_code == 204 and "GET" in r.headers["Allow"]


def test_credentials_come_before_the_route_table(authsrv):
    """An anonymous caller learns nothing of which paths exist: every path but the open ones
    answers 401, whatever its method; with a credential, 404 and 405 as usual."""
    srv, creds = authsrv
    fx = srv.fixture
    anonymous = [("GET", "/nope"), ("GET", "/service/nope"), ("HEAD", "/nope"),
                 ("POST", "/no/such/thing"), ("GET", f"/flows/{fx['flow']}/nope"),
                 ("GET", "/flows/%zz"), ("DELETE", "/service"), ("PUT", "/flows"),
                 ("PATCH", "/nope"), ("GET", "/metrics"), ("GET", "/_objectsx")]
    for method, path in anonymous:
        for kw in ({}, creds.request_kw("bearer", "wrong"), creds.request_kw("basic", "wrong")):
            r = srv.request(method, path, **kw)
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.headers.get("WWW-Authenticate") == CHALLENGE
            if method != "HEAD":
                check_error(r, 401)
    read = creds.request_kw("bearer", "read")
    check_error(srv.get("/nope", **read), 404)
    assert srv.get("/flows/%zz", **read).status_code in (400, 404)
    r = srv.delete("/service", **read)
    check_error(r, 405)
    assert "GET" in r.headers["Allow"]
    # The open paths behave as documented without a credential.
    assert srv.get("/health").status_code == 200
    check_error(srv.post("/health"), 405)


def test_options_reveals_no_path_while_authentication_is_on(authsrv):
    srv, _ = authsrv
    answers = set()
    for path in ("/flows", "/service", "/nope", "/flows/x/y/z", "/health"):
        r = srv.request("OPTIONS", path)
        assert r.status_code == 204, (path, r.status_code)
        answers.add(r.headers["Allow"])
    assert len(answers) == 1 and "GET" in answers.pop()


def test_object_store_urls_are_authorised_by_signature(authsrv):
    srv, creds = authsrv
    fx = srv.fixture
    r = srv.post(f"/flows/{fx['flow']}/storage", json={"limit": 1}, **fx["admin"])
    assert r.status_code == 201, r.text
    put = r.json()["media_objects"][0]["put_url"]
    # no credential, signature in the URL: accepted
    r = requests.put(put["url"], data=b"media bytes", headers={"Content-Type": "video/mp2t"},
                     timeout=30)
    assert r.status_code in (200, 201, 204), r.text
    # a tampered signature is refused by the object store, not by the credential gate
    r = requests.put(put["url"] + "0", data=b"x", timeout=30)
    assert r.status_code == 403 and "WWW-Authenticate" not in r.headers


def test_scope_lists_and_admin(authsrv, tmp_path):
    srv, creds = authsrv
    data_dir = srv.data_dir
    tok = add_token(data_dir, "token-rw", "read,write")
    time.sleep(1.2)  # the server re-reads the credentials file within a second
    h = {"Authorization": "Bearer " + tok}
    assert srv.get("/flows", headers=h).status_code == 200
    fid = str(uuid.uuid4())
    assert srv.put(f"/flows/{fid}", json=video_flow(fid), headers=h).status_code == 201
    check_error(srv.delete(f"/flows/{fid}", headers=h), 403)
    assert srv.delete(f"/flows/{fid}", **creds.request_kw("jwt", "admin")).status_code == 204


def test_revoked_token_and_deleted_user_stop_working(authsrv):
    srv, creds = authsrv
    tok = add_token(srv.data_dir, "short-lived", "read")
    add_user(srv.data_dir, "leaver", "read", "leaver-password")
    time.sleep(1.2)
    h = {"Authorization": "Bearer " + tok}
    assert srv.get("/flows", headers=h).status_code == 200
    assert srv.get("/flows", auth=("leaver", "leaver-password")).status_code == 200
    assert cli(["token", "revoke", "short-lived"], srv.data_dir).returncode == 0
    assert cli(["user", "delete", "leaver"], srv.data_dir).returncode == 0
    time.sleep(1.2)
    check_error(srv.get("/flows", headers=h), 401)
    check_error(srv.get("/flows", auth=("leaver", "leaver-password")), 401)


@pytest.mark.parametrize("claims_kw", [
    {"exp": 1000},                       # expired
    {"nbf": int(time.time()) + 3600},    # not yet valid
    {"iss": "https://evil.example"},
    {"aud": "someone-else"},
])
def test_jwt_claims_checked(authsrv, claims_kw):
    srv, _ = authsrv
    tok = jwt_hs256(claims("jwt-read", "read", **claims_kw))
    check_error(srv.get("/flows", headers={"Authorization": "Bearer " + tok}), 401)


def test_jwt_alg_none_and_garbage_refused(authsrv):
    srv, _ = authsrv
    body = b64url(json.dumps(claims("x", "admin")).encode())
    for tok in (b64url(b'{"alg":"none"}') + "." + body + ".",
                "not.a.jwt", "a" * 20000, "tams_zzzz", jwt_hs256(claims("x", "admin"))[:-4]):
        r = srv.get("/flows", headers={"Authorization": "Bearer " + tok})
        assert r.status_code in (401, 431, 413) or r.status_code == 400, r.status_code
        if r.status_code == 401:
            check_error(r, 401)
    check_error(srv.get("/flows", headers={"Authorization": "Digest abc"}), 401)
    check_error(srv.get("/flows", headers={"Authorization": "Basic !!!"}), 401)


def jwt_hs256_raw(payload, secret=JWT_SECRET):
    """A JWT over payload bytes as they are (json.dumps would escape what is not ASCII)."""
    si = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64url(payload)
    sig = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
    return si + "." + b64url(sig)


@pytest.mark.parametrize("sub", [b"\xc0\xaf", b"\xed\xa0\xbd\xed\xb8\x80", b"\xed\xa0\x80",
                                 b"\xf4\x90\x80\x80"])
def test_jwt_claims_must_be_utf8(authsrv, sub):
    """A correctly signed token whose claims are not strict UTF-8 (overlong, CESU-8, a lone
    surrogate, above U+10FFFF) is refused like any malformed token; the same token with valid
    text is taken."""
    srv, _ = authsrv
    c = claims("jwt-read", "read")
    good = json.dumps(c, ensure_ascii=False).replace("jwt-read", "jwt-read-\u00e9").encode()
    r = srv.get("/flows", headers={"Authorization": "Bearer " + jwt_hs256_raw(good)})
    assert r.status_code == 200, r.text
    bad = json.dumps(c).encode().replace(b"jwt-read", b"jwt-read-" + sub)
    check_error(srv.get("/flows", headers={"Authorization": "Bearer " + jwt_hs256_raw(bad)}), 401)


def test_principal_recorded_in_created_by_updated_by(authsrv):
    srv, creds = authsrv
    fid = str(uuid.uuid4())
    doc = video_flow(fid)
    r = srv.put(f"/flows/{fid}", json=doc, **creds.request_kw("basic", "write"))
    assert r.status_code == 201, r.text
    body = srv.get(f"/flows/{fid}", **creds.request_kw("bearer", "read")).json()
    assert body["created_by"] == "user-write"
    r = srv.put(f"/flows/{fid}/label", json="x", **creds.request_kw("jwt", "write"))
    assert r.status_code == 204
    body = srv.get(f"/flows/{fid}", **creds.request_kw("bearer", "read")).json()
    assert body["created_by"] == "user-write"
    assert body["updated_by"] == "jwt-write"
    r = srv.put(f"/sources/{doc['source_id']}/label", json="y",
                **creds.request_kw("access_token", "write"))
    assert r.status_code == 204
    src = srv.get(f"/sources/{doc['source_id']}", **creds.request_kw("jwt", "read")).json()
    assert src["created_by"] == "user-write"
    assert src["updated_by"] == "token-write"


def test_access_token_never_logged_and_kept_in_links(authsrv):
    srv, creds = authsrv
    tok = creds.tokens["read"]
    r = srv.get("/flows", params={"access_token": tok, "limit": 1})
    assert r.status_code == 200
    if "Link" in r.headers:
        assert "access_token=" + tok in r.headers["Link"]
    srv.get("/flows", params={"access_token": creds.wrong_token})
    srv.get("/no/such/path", params={"access_token": tok})
    time.sleep(0.3)  # access-log lines are flushed every 100 ms
    log = srv.stderr()
    for secret in list(creds.tokens.values()) + [creds.wrong_token] + \
            list(creds.passwords.values()) + list(creds.jwts.values()) + [JWT_SECRET]:
        assert secret not in log


def test_failed_auth_counter_moves(authsrv):
    srv, creds = authsrv
    read = creds.request_kw("bearer", "read")

    def value(text, series):
        for line in text.splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        raise AssertionError(series + " missing:\n" + text)

    before = srv.get("/metrics", **read).text
    srv.get("/flows", **creds.request_kw("bearer", "wrong"))
    srv.get("/flows")
    srv.delete("/flows/" + str(uuid.uuid4()), **read)
    after = srv.get("/metrics", **read).text
    for series in ('tams_auth_failures_total{reason="invalid"}',
                   'tams_auth_failures_total{reason="missing"}', "tams_auth_forbidden_total"):
        assert value(after, series) == value(before, series) + 1, series


def test_credentials_file_holds_no_plaintext(authsrv):
    srv, creds = authsrv
    path = srv.data_dir / "credentials.json"
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o600
    text = path.read_text()
    doc = json.loads(text)
    assert doc["version"] == 1 and doc["users"] and doc["tokens"]
    for pw in creds.passwords.values():
        assert pw not in text
        assert base64.b64encode(pw.encode()).decode() not in text
    for tok in creds.tokens.values():
        assert tok not in text
        assert tok.split("_", 2)[2] not in text  # the secret part (base64url: may hold "_")
    for u in doc["users"]:
        assert u["kdf"] == "pbkdf2-sha256" and u["iterations"] >= 200000
        assert len(u["salt"]) == 32 and len(u["hash"]) == 64
    assert len({u["salt"] for u in doc["users"]}) == len(doc["users"])
    # nor anything else in the data directory
    for p in srv.data_dir.rglob("*"):
        if p.is_file():
            blob = p.read_bytes()
            for secret in list(creds.passwords.values()) + list(creds.tokens.values()):
                assert secret.encode() not in blob, p


# --- separate servers -----------------------------------------------------------------------------

def test_rs256_and_es256_jwts(tmp_path):
    crypto = pytest.importorskip("cryptography.hazmat.primitives.asymmetric")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
    for alg in ("RS256", "ES256"):
        if alg == "RS256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        keyfile = tmp_path / f"{alg}.pem"
        keyfile.write_bytes(pem)

        def sign(c, alg=alg, key=key):
            si = (b64url(json.dumps({"alg": alg}).encode()) + "." +
                  b64url(json.dumps(c).encode())).encode()
            if alg == "RS256":
                sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
            else:
                r, s = utils.decode_dss_signature(key.sign(si, ec.ECDSA(hashes.SHA256())))
                sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
            return si.decode() + "." + b64url(sig)

        tmp = tmp_path / alg
        tmp.mkdir()
        srv = Server(tmp, env={"TAMS_JWT_ALG": alg, "TAMS_JWT_KEY_FILE": str(keyfile),
                               "TAMS_JWT_AUDIENCE": AUDIENCE, "TAMS_JWT_SCOPE_CLAIM": "scp"})
        srv.start()
        try:
            good = sign({"sub": "idp-svc", "aud": AUDIENCE, "exp": int(time.time()) + 60,
                         "scp": ["read", "write"]})
            h = {"Authorization": "Bearer " + good}
            fid = str(uuid.uuid4())
            assert srv.put(f"/flows/{fid}", json=video_flow(fid), headers=h).status_code == 201
            assert srv.get(f"/flows/{fid}", headers=h).json()["created_by"] == "idp-svc"
            assert srv.get("/flows", params={"access_token": good}).status_code == 200
            check_error(srv.delete(f"/flows/{fid}", headers=h), 403)
            # alg confusion: the public key as an HS256 secret
            forged = jwt_hs256({"sub": "x", "aud": AUDIENCE, "exp": int(time.time()) + 60,
                                "scp": "admin"}, secret=pem.decode())
            check_error(srv.get("/flows", headers={"Authorization": "Bearer " + forged}), 401)
            check_error(srv.get("/flows", headers={"Authorization": "Bearer " + good[:-6] +
                                                   "AAAAAA"}), 401)
        finally:
            srv.stop()


def test_loopback_without_credentials_is_open_with_a_warning(make_server):
    srv = make_server()
    assert srv.get("/flows").status_code == 200
    warn = [l for l in srv.log_lines() if l.get("level") == "warn"]
    assert any("without authentication" in l.get("msg", "").lower() for l in warn), warn


def test_public_address_without_credentials_refuses_to_start(tmpdir_path):
    port = free_port()
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    r = subprocess.run([BIN, "--listen", f"0.0.0.0:{port}", "--data-dir",
                        str(tmpdir_path / "d")], capture_output=True, text=True, env=e,
                       timeout=30)
    assert r.returncode == 1, r.stderr
    assert "refusing" in r.stderr and "auth_disabled" in r.stderr


def test_public_address_with_auth_disabled_starts(tmpdir_path):
    port = free_port()
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    e["TAMS_AUTH_DISABLED"] = "true"
    proc = subprocess.Popen([BIN, "--listen", f"0.0.0.0:{port}", "--data-dir",
                             str(tmpdir_path / "d")], stderr=subprocess.PIPE, env=e)
    try:
        deadline = time.time() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if requests.get(f"http://127.0.0.1:{port}/flows", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline
            time.sleep(0.05)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"authentication is disabled" in err


def test_public_address_with_credentials_requires_them(tmpdir_path):
    data = tmpdir_path / "d"
    tok = add_token(data, "t", "read")
    port = free_port()
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    proc = subprocess.Popen([BIN, "--listen", f"0.0.0.0:{port}", "--data-dir", str(data)],
                            stderr=subprocess.DEVNULL, env=e)
    try:
        deadline = time.time() + 20
        while True:
            assert proc.poll() is None
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline
            time.sleep(0.05)
        assert requests.get(f"http://127.0.0.1:{port}/flows", timeout=5).status_code == 401
        assert requests.get(f"http://127.0.0.1:{port}/flows", timeout=5,
                            headers={"Authorization": "Bearer " + tok}).status_code == 200
        # deleting the last credential does not open a public server
        assert cli(["token", "revoke", "t"], data).returncode == 0
        time.sleep(1.2)
        assert requests.get(f"http://127.0.0.1:{port}/flows", timeout=5,
                            headers={"Authorization": "Bearer " + tok}).status_code == 401
        assert requests.get(f"http://127.0.0.1:{port}/flows", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_metrics_public_setting(tmp_path):
    srv, creds = start_auth_server(tmp_path, args=["--metrics-public", "true"])
    try:
        r = srv.get("/metrics")
        assert r.status_code == 200 and "tams_auth_failures_total" in r.text
        check_error(srv.get("/flows"), 401)
        check_error(srv.get("/nope"), 401)
        check_error(srv.post("/metrics"), 405)  # an open path: its methods are no secret
    finally:
        srv.stop()


def throttled(srv, kind, creds_kw):
    value = None
    for line in srv.get("/metrics", **creds_kw).text.splitlines():
        if line.startswith(f'tams_auth_throttled_total{{reason="{kind}"}} '):
            value = float(line.split()[-1])
    assert value is not None
    return value


def test_repeated_failures_are_throttled_per_principal(tmp_path):
    """F5: failures are counted per (address, principal); someone else's failures never lock a
    valid credential out, and API tokens and JWTs that verify are never refused."""
    data = tmp_path / "data"
    tok = add_token(data, "t", "read")
    add_user(data, "alice", "read", "alice-password")
    add_user(data, "bob", "read", "bob-password")
    srv = Server(tmp_path, args=["--auth-fail-limit", "3", "--auth-fail-limit-unknown", "2"],
                 data_dir=data, env={"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET})
    srv.start()
    try:
        good = {"Authorization": "Bearer " + tok}
        wrong_tok = {"Authorization": "Bearer " + tok[:-1] + ("A" if tok[-1] != "A" else "B")}
        # The three guesses are sent at once: each takes its attempt on arrival, before its
        # password is checked, so the fourth is refused however slow hashing is (a loaded
        # machine, a sanitizer build) and before the bucket refills (one attempt per 20 s).
        guesses = []

        def guess():
            guesses.append(requests.get(srv.url + "/flows", auth=("alice", "wrong-password"),
                                        timeout=120))

        threads = [threading.Thread(target=guess) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        r = srv.get("/flows", auth=("alice", "wrong-password"))
        body = check_error(r, 429)
        assert int(r.headers["Retry-After"]) >= 1 and "this user or token" in body["summary"]
        # alice's right password waits too (her bucket is empty: a guess would tell), but bob,
        # the token and a JWT from the same address are unaffected
        check_error(srv.get("/flows", auth=("alice", "alice-password")), 429)
        assert srv.get("/flows", headers=good).status_code == 200
        jwt = jwt_hs256({"sub": "svc", "scope": "read", "exp": int(time.time()) + 600})
        assert srv.get("/flows", headers={"Authorization": "Bearer " + jwt}).status_code == 200
        assert srv.get("/flows", auth=("bob", "bob-password"), timeout=120).status_code == 200
        for t in threads:
            t.join()
        assert len(guesses) == 3
        for g in guesses:
            check_error(g, 401)
        # a known token id with a wrong secret has its own bucket; the right token still works
        for _ in range(3):
            check_error(srv.get("/flows", headers=wrong_tok), 401)
        check_error(srv.get("/flows", headers=wrong_tok), 429)
        assert srv.get("/flows", headers=good).status_code == 200
        # unknown principals share a smaller budget per address
        check_error(srv.get("/flows", auth=("nobody", "x" * 10)), 401)
        check_error(srv.get("/flows", headers={"Authorization": "Bearer not-a-token"}), 401)
        body = check_error(srv.get("/flows", auth=("someone", "x" * 10)), 429)
        assert "no known user or token" in body["summary"]
        assert srv.get("/flows", auth=("bob", "bob-password")).status_code == 200
        # anonymous requests are 401, never throttled; /health is open
        check_error(srv.get("/flows"), 401)
        assert srv.get("/health").status_code == 200
        assert throttled(srv, "principal", {"headers": good}) == 3
        assert throttled(srv, "unknown", {"headers": good}) == 1
        time.sleep(21)  # 3 per minute: one attempt back every 20 s
        assert srv.get("/flows", auth=("alice", "alice-password")).status_code == 200
    finally:
        srv.stop()


def raw_get(srv, path, headers):
    """GET with headers given as (name, value) pairs, repeated names kept."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.putrequest("GET", path)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_trusted_proxies_name_the_client(tmp_path):
    """F5: behind a trusted proxy each client has its own buckets: the client is the rightmost
    X-Forwarded-For hop that is not a trusted proxy, whatever a client puts to its left."""
    data = tmp_path / "data"
    add_user(data, "alice", "read", "alice-password")
    srv = Server(tmp_path, data_dir=data, args=[
        "--auth-fail-limit", "2", "--trusted-proxies", "10.9.0.0/16, 127.0.0.1"]).start()
    try:
        bad = "Basic " + base64.b64encode(b"alice:wrong-password").decode()
        ok = "Basic " + base64.b64encode(b"alice:alice-password").decode()

        def get(auth, *xff):
            return raw_get(srv, "/flows", [("Authorization", auth)] +
                           [("X-Forwarded-For", x) for x in xff])[0]

        assert get(bad, "203.0.113.5") == 401
        # the client's own claim left of the proxy's entry changes nothing; a second header
        # line (a proxy that adds one) counts as appended; a trusted hop is skipped
        assert get(bad, "198.51.100.1, 203.0.113.5") == 401
        assert get(bad, "198.51.100.2", "203.0.113.5, 10.9.1.1") == 429
        assert get(ok, "203.0.113.5") == 429
        # another client behind the same proxy is unaffected
        assert get(ok, "203.0.113.6") == 200
        assert get(bad, "203.0.113.6") == 401
        # without the header: the proxy's own address, its own bucket
        assert get(ok) == 200
        # "v4:port", an IPv4-mapped IPv6 address and "[v6]:port" name the same clients as
        # their bare addresses; a hop that did not parse would fall back to the proxy's bucket
        assert get(bad, "203.0.113.7:5555") == 401
        assert get(bad, "203.0.113.7") == 401
        assert get(ok, "::ffff:203.0.113.7") == 429
        assert get(bad, "[2001:db8::5]:443") == 401
        assert get(bad, "2001:db8::5") == 401
        assert get(ok, "[2001:db8::5]") == 429
        assert get(ok) == 200
    finally:
        srv.stop()
    # an untrusted peer's X-Forwarded-For is ignored: every attempt is 127.0.0.1's
    srv = Server(tmp_path, data_dir=data, args=["--auth-fail-limit", "2"]).start()
    try:
        bad = "Basic " + base64.b64encode(b"alice:wrong-password").decode()
        for i, want in enumerate((401, 401, 429)):
            status, _ = raw_get(srv, "/flows", [("Authorization", bad),
                                                ("X-Forwarded-For", f"203.0.113.{i}")])
            assert status == want
    finally:
        srv.stop()


def test_bad_trusted_proxies_stop_the_server(tmpdir_path):
    r = cli_run(["--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(tmpdir_path / "d"),
                 "--trusted-proxies", "10.0.0.0/33"])
    assert r.returncode == 1 and "trusted_proxies" in r.stderr, r.stderr


def cli_run(args):
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=30)


def test_password_flood_does_not_delay_tokens(tmp_path):
    """F10: PBKDF2 runs on its own threads from a bounded queue, so a flood of wrong passwords
    leaves API tokens and JWTs fast; past the queue a Basic request is 429 at once."""
    data = tmp_path / "data"
    tok = add_token(data, "t", "read")
    add_user(data, "alice", "read", "alice-password")
    srv = Server(tmp_path, data_dir=data, args=["--auth-fail-limit", "0", "--threads", "2",
                                               "--auth-hash-queue", "4"],
                 env={"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET}).start()
    stop = threading.Event()
    statuses = []

    def flood(i):
        s = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            try:
                r = s.get(srv.url + "/flows", auth=(f"user{i}-{n % 3}", "wrong-password"),
                          timeout=30)
                statuses.append(r.status_code)
            except requests.RequestException:
                statuses.append(0)

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(12)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.0)
        jwt = jwt_hs256({"sub": "svc", "scope": "read", "exp": int(time.time()) + 600})
        lat = []
        for i in range(40):
            h = {"Authorization": "Bearer " + (tok if i % 2 else jwt)}
            t0 = time.monotonic()
            r = requests.get(srv.url + "/flows", headers=h, timeout=30)
            lat.append(time.monotonic() - t0)
            assert r.status_code == 200
            time.sleep(0.05)
        # a right password gets through too, or is told at once to come back
        t0 = time.monotonic()
        r = requests.get(srv.url + "/flows", auth=("alice", "alice-password"), timeout=30)
        assert r.status_code in (200, 429)
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "1"
    finally:
        stop.set()
        for t in threads:
            t.join()
    try:
        lat.sort()
        print("token and JWT latencies under the flood:", lat)
        # Behind the flood (before F10's fix) every token request took 1.0-1.4 s: the bounds
        # leave room for a loaded machine and still tell the two apart.
        assert lat[-1] < 1.0 and lat[len(lat) * 9 // 10] < 0.25, lat
        assert 401 in statuses and 429 in statuses, set(statuses)
        assert 0 not in statuses
        assert throttled(srv, "hash_queue", {"headers": {"Authorization": "Bearer " + tok}}) > 0
        assert srv.get("/flows", auth=("alice", "alice-password")).status_code == 200
    finally:
        srv.stop()


def test_stopping_during_a_password_flood(tmp_path):
    """Stopping while password checks run and requests sleep on them exits cleanly: every
    sleeping request is woken before the HTTP daemon stops (it aborts on one asleep)."""
    data = tmp_path / "data"
    add_user(data, "alice", "read", "alice-password")
    srv = Server(tmp_path, data_dir=data, args=["--auth-fail-limit", "0", "--threads", "2",
                                               "--shutdown-timeout", "1"])
    for _ in range(3):
        srv.start()
        stop = threading.Event()

        def flood():
            s = requests.Session()
            while not stop.is_set():
                try:
                    s.get(srv.url + "/flows", auth=("alice", "wrong-password"), timeout=5)
                except requests.RequestException:
                    pass

        threads = [threading.Thread(target=flood) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            assert srv.stop() == 0
        finally:
            stop.set()
            for t in threads:
                t.join()


# --- F1: no credential change ever widens access --------------------------------------------------

def anonymous_write_refused(srv):
    r = srv.post("/service", json={"name": "renamed-by-anonymous"})
    check_error(r, 401)


def warned(srv, text):
    return any(text in l.get("msg", "") for l in srv.log_lines() if l.get("level") == "warn")


@pytest.mark.parametrize("remove", ["token revoke", "user delete"])
def test_removing_the_last_credential_keeps_loopback_closed(make_server, remove):
    srv = make_server()
    data = srv.data_dir
    # first start: no credential has ever existed, loopback: open, with a warning
    assert srv.post("/service", json={"name": "first-start"}).status_code == 200
    assert warned(srv, "WITHOUT authentication")
    if remove == "token revoke":
        tok = add_token(data, "only", "read,write")
        kw = {"headers": {"Authorization": "Bearer " + tok}}
    else:
        add_user(data, "only", "read,write", "only-password")
        kw = {"auth": ("only", "only-password")}
    time.sleep(1.3)
    anonymous_write_refused(srv)
    assert srv.get("/service", **kw).json()["name"] == "first-start"
    assert cli(remove.split() + ["only"], data).returncode == 0
    time.sleep(1.3)
    check_error(srv.get("/flows", **kw), 401)
    anonymous_write_refused(srv)
    check_error(srv.get("/flows"), 401)
    # and after a restart
    srv.stop()
    srv.start()
    anonymous_write_refused(srv)
    check_error(srv.get("/flows", **kw), 401)
    assert warned(srv, "no credential exists")
    srv.stop()
    # the one way back to no authentication is the explicit setting
    srv.args = ["--auth-disabled", "true"]
    srv.start()
    assert srv.get("/service").json()["name"] == "first-start"
    assert warned(srv, "authentication is disabled")


def test_credentials_file_removed_by_hand_keeps_closed(make_server):
    srv = make_server(start=False)
    tok = add_token(srv.data_dir, "t", "read")
    srv.start()
    h = {"Authorization": "Bearer " + tok}
    assert srv.get("/flows", headers=h).status_code == 200
    (srv.data_dir / "credentials.json").unlink()
    time.sleep(1.3)
    check_error(srv.get("/flows", headers=h), 401)
    check_error(srv.get("/flows"), 401)
    path = srv.data_dir / "credentials.json"
    assert path.exists() and os.stat(path).st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["tokens"] == []
    srv.stop()
    srv.start()
    check_error(srv.get("/flows"), 401)


def test_turning_jwts_off_keeps_closed(make_server):
    srv = make_server(env={"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET})
    jwt = jwt_hs256({"sub": "svc", "scope": "read", "exp": int(time.time()) + 600})
    assert srv.get("/flows", headers={"Authorization": "Bearer " + jwt}).status_code == 200
    check_error(srv.get("/flows"), 401)
    assert (srv.data_dir / "credentials.json").exists()
    srv.stop()
    srv.env = {}
    srv.start()
    check_error(srv.get("/flows"), 401)
    anonymous_write_refused(srv)


# --- the command line ---------------------------------------------------------------------------

def test_cli_errors_and_listing(tmp_path):
    d = tmp_path / "d"
    assert cli(["user", "add", "x", "--scopes", "read"], d, stdin="").returncode == 1
    assert cli(["user", "add", "x", "--scopes", "read"], d, stdin="short\n").returncode == 1
    assert cli(["user", "add", "x", "--scopes", "bogus"], d, stdin="long-password\n").returncode == 2
    assert cli(["user", "add", "x"], d, stdin="long-password\n").returncode == 2
    assert cli(["user", "add", "-bad", "--scopes", "read"], d).returncode == 2
    assert cli(["user", "frobnicate"], d).returncode == 2
    assert cli(["token", "create", "--scopes", "read"], d).returncode == 2
    assert cli(["user", "list", "--no-such-setting", "1"], d).returncode == 2
    add_user(d, "alice", "read,write", "alice-password")
    r = cli(["user", "add", "alice", "--scopes", "read"], d, stdin="other-password\n")
    assert r.returncode == 1 and "exists" in r.stderr
    tok = add_token(d, "ci", "admin")
    assert cli(["token", "create", "--name", "ci", "--scopes", "read"], d).returncode == 1
    r = cli(["user", "list"], d)
    assert r.returncode == 0 and r.stdout.startswith("alice\tread,write\t")
    r = cli(["token", "list"], d)
    assert r.returncode == 0 and r.stdout.startswith("ci\t" + tok[:18])
    assert tok not in r.stdout
    assert cli(["token", "revoke", "nope"], d).returncode == 1
    assert cli(["user", "delete", "nope"], d).returncode == 1
    assert cli(["token", "revoke", "ci"], d).returncode == 0
    assert cli(["user", "delete", "alice"], d).returncode == 0
    assert cli(["user", "list"], d).stdout == ""
    r = cli(["user", "--help"], d)
    assert r.returncode == 0 and "token create" in r.stdout


def test_cli_uses_the_servers_settings_resolution(tmp_path):
    d = tmp_path / "from-env"
    r = subprocess.run([BIN, "token", "create", "--name", "t", "--scopes", "read"],
                       capture_output=True, text=True, timeout=30,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("TAMS_")},
                            "TAMS_DATA_DIR": str(d)})
    assert r.returncode == 0, r.stderr
    assert (d / "credentials.json").exists()
    conf = tmp_path / "tamsd.conf"
    conf.write_text(f"data_dir = {tmp_path / 'from-file'}\n")
    r = subprocess.run([BIN, "token", "create", "--name", "t", "--scopes", "read", "--config",
                        str(conf)], capture_output=True, text=True, timeout=30,
                       env={k: v for k, v in os.environ.items() if not k.startswith("TAMS_")})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "from-file" / "credentials.json").exists()


def test_webhooks_belong_to_their_owner(tmp_path):
    """Only the principal that registered a webhook, or an admin, sees or changes it."""
    srv, creds = start_auth_server(tmp_path, args=["--webhooks-allow-private", "true"])
    try:
        add_user(srv.data_dir, "alice", "read,write", "pw-alice-123")
        add_user(srv.data_dir, "bob", "read,write", "pw-bob-1234")
        time.sleep(1.5)  # the server re-reads the credentials file within a second
        owner, other = {"auth": ("alice", "pw-alice-123")}, {"auth": ("bob", "pw-bob-1234")}
        admin = creds.request_kw("bearer", "admin")
        hook = {"url": "http://127.0.0.1:9/hook", "events": ["flows/created"],
                "api_key_name": "X-Key", "api_key_value": "s3cret"}
        r = srv.post("/service/webhooks", json=hook, **owner)
        assert r.status_code == 201, r.text
        mine = srv.get("/service/webhooks", **owner)
        assert mine.status_code == 200, mine.text
        assert [h["url"] for h in mine.json()] == [hook["url"]]
        assert "api_key_value" not in mine.json()[0]
        assert srv.get("/service/webhooks", **other).json() == []
        assert [h["url"] for h in srv.get("/service/webhooks", **admin).json()] == [hook["url"]]
        # Another principal can neither update nor remove it.
        body = check_error(srv.post("/service/webhooks", json=dict(hook, events=[]), **other),
                           403)
        assert "another principal" in body["summary"]
        assert srv.get("/service/webhooks", **owner).json() != []
        # The owner and an admin can.
        r = srv.post("/service/webhooks", json=dict(hook, events=["flows/deleted"]), **owner)
        assert r.status_code == 201
        r = srv.post("/service/webhooks", json=dict(hook, events=[]), **admin)
        assert r.status_code == 204
        assert srv.get("/service/webhooks", **owner).json() == []
    finally:
        srv.stop()
