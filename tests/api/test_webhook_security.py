# SPDX-License-Identifier: Apache-2.0
"""Webhooks and principals (docs/authentication.md, "Webhooks"): registering needs read as well
as write and events never carry more than the owner may read now (F2), a cap per owner (F6),
owners namespaced by kind (F7), api keys sealed at rest and never returned (F11)."""
import os
import subprocess
import time
import uuid

import pytest

from conftest import (API_VERSION, BIN, ON_PG, Server, VIDEO_RATE, check_error, db_scalar,
                      free_port)
from test_auth import JWT_SECRET, add_token, add_user, cli, jwt_hs256
from test_webhooks import Receiver

ALLOW = ["--webhooks-allow-private", "true"]
JWT_ENV = {"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET}
VIDEO = {"format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp2t",
         "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def bearer(tok):
    return {"headers": {"Authorization": "Bearer " + tok}}


def jwt_kw(sub, scope="read write", **claims):
    c = {"sub": sub, "scope": scope, "exp": int(time.time()) + 600}
    c.update(claims)
    return bearer(jwt_hs256(c))


def make_flow(srv, **kw):
    fid = str(uuid.uuid4())
    r = srv.put(f"/flows/{fid}", json=dict(VIDEO, id=fid, source_id=str(uuid.uuid4())), **kw)
    assert r.status_code == 201, r.text
    return fid


def start(tmp_path, creds, args=(), env=None):
    """A server whose data directory holds the credentials creds(data_dir) makes."""
    data = tmp_path / "data"
    made = creds(data)
    srv = Server(tmp_path, args=ALLOW + list(args), env=env, data_dir=data).start()
    return srv, made


def created_flows(receiver, path):
    return [e["event"]["flow"]["id"] for e in receiver.events(path)
            if e["event_type"] == "flows/created"]


def metric(srv, name, kw):
    for line in srv.get("/metrics", **kw).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(name)


def test_registration_needs_read_as_well_as_write(tmp_path, receiver):
    srv, toks = start(tmp_path, lambda d: {s: add_token(d, s.replace(",", "-"), s) for s in
                                           ("write", "read,write", "admin")})
    try:
        hook = {"url": receiver.url("/w"), "events": ["flows/created"]}
        body = check_error(srv.post("/service/webhooks", json=hook, **bearer(toks["write"])), 403)
        assert "'read' scope" in body["summary"], body
        assert srv.get("/service/webhooks", **bearer(toks["admin"])).json() == []
        # a removal reads nothing: write is enough (7.0 removes by POST; 8.2's DELETE by id is
        # in test_auth.py::test_matrix_82)
        if API_VERSION == "7.0":
            r = srv.post("/service/webhooks", json=dict(hook, events=[]),
                         **bearer(toks["write"]))
            assert r.status_code == 204
        r = srv.post("/service/webhooks", json=hook, **bearer(toks["read,write"]))
        assert r.status_code == 201, r.text
        fid = make_flow(srv, **bearer(toks["admin"]))
        receiver.wait(1, "/w")
        assert created_flows(receiver, "/w") == [fid]
    finally:
        srv.stop()


def test_events_withheld_while_the_owner_may_not_read(tmp_path, receiver):
    def creds(d):
        add_user(d, "alice", "read,write", "alice-password")
        return add_token(d, "admin", "admin")

    srv, admin = start(tmp_path, creds)
    alice = {"auth": ("alice", "alice-password")}
    try:
        r = srv.post("/service/webhooks", json={"url": receiver.url("/a"),
                                                "events": ["flows/created"]}, **alice)
        assert r.status_code == 201, r.text
        f1 = make_flow(srv, **bearer(admin))
        receiver.wait(1, "/a")
        # alice loses the read scope: nothing reaches her webhook, for good
        assert cli(["user", "delete", "alice"], srv.data_dir).returncode == 0
        add_user(srv.data_dir, "alice", "write", "alice-password")
        time.sleep(1.3)
        f2 = make_flow(srv, **bearer(admin))
        deadline = time.time() + 10
        while metric(srv, "tams_webhook_withheld_total", bearer(admin)) < 1:
            assert time.time() < deadline
            time.sleep(0.1)
        assert created_flows(receiver, "/a") == [f1]
        assert any("may not read now" in l.get("msg", "") for l in srv.log_lines())
        # read again: later events flow again, the withheld one never comes
        assert cli(["user", "delete", "alice"], srv.data_dir).returncode == 0
        add_user(srv.data_dir, "alice", "read,write", "alice-password")
        time.sleep(1.3)
        f3 = make_flow(srv, **bearer(admin))
        receiver.wait(2, "/a")
        time.sleep(0.5)
        assert created_flows(receiver, "/a") == [f1, f3] and f2
        # a revoked token's webhook is withheld too
        tok = add_token(srv.data_dir, "short", "read,write")
        time.sleep(1.3)
        r = srv.post("/service/webhooks", json={"url": receiver.url("/t"),
                                                "events": ["flows/created"]}, **bearer(tok))
        assert r.status_code == 201
        assert cli(["token", "revoke", "short"], srv.data_dir).returncode == 0
        time.sleep(1.3)
        make_flow(srv, **bearer(admin))
        receiver.wait(3, "/a")
        time.sleep(0.5)
        assert receiver.events("/t") == []
    finally:
        srv.stop()


def test_anonymous_webhooks_stop_when_authentication_starts(make_server, receiver):
    srv = make_server(args=ALLOW)
    r = srv.post("/service/webhooks", json={"url": receiver.url("/anon"),
                                            "events": ["flows/created"]})
    assert r.status_code == 201
    f1 = make_flow(srv)
    receiver.wait(1, "/anon")
    tok = add_token(srv.data_dir, "admin", "admin")
    time.sleep(1.3)
    make_flow(srv, **bearer(tok))
    deadline = time.time() + 10
    while metric(srv, "tams_webhook_withheld_total", bearer(tok)) < 1:
        assert time.time() < deadline
        time.sleep(0.1)
    assert created_flows(receiver, "/anon") == [f1]
    # an admin still sees it, and may remove it
    assert [h["url"] for h in srv.get("/service/webhooks", **bearer(tok)).json()] == [
        receiver.url("/anon")]


def remove_hook(srv, url, **kw):
    """Removes the caller's webhook for url: 7.0 by POST with no events, 8.2 by DELETE of its id."""
    if API_VERSION == "7.0":
        r = srv.post("/service/webhooks", json={"url": url, "events": []}, **kw)
    else:
        (hid,) = [h["id"] for h in srv.get("/service/webhooks", **kw).json() if h["url"] == url]
        r = srv.delete(f"/service/webhooks/{hid}", **kw)
    assert r.status_code == 204, r.text


def test_webhooks_per_owner_are_capped(tmp_path, receiver):
    # 8.2 removes a webhook by DELETE, which needs the delete scope.
    scopes = "read,write" if API_VERSION == "7.0" else "read,write,delete"

    def creds(d):
        return {s: add_token(d, s, scopes) for s in ("alice", "bob")}

    srv, toks = start(tmp_path, creds, args=["--webhooks-per-owner-max", "3"])
    try:
        alice, bob = bearer(toks["alice"]), bearer(toks["bob"])
        for i in range(3):
            r = srv.post("/service/webhooks",
                         json={"url": receiver.url(f"/{i}"), "events": ["flows/created"]},
                         **alice)
            assert r.status_code == 201
        extra = {"url": receiver.url("/3"), "events": ["flows/created"]}
        body = check_error(srv.post("/service/webhooks", json=extra, **alice), 400)
        assert "webhooks_per_owner_max" in body["summary"] and "3" in body["summary"], body
        assert len(srv.get("/service/webhooks", **alice).json()) == 3
        # others have their own count; the owner may still update and remove
        assert srv.post("/service/webhooks", json=extra, **bob).status_code == 201
        r = srv.post("/service/webhooks", json={"url": receiver.url("/0"),
                                                "events": ["flows/updated"]}, **alice)
        assert r.status_code == 201
        remove_hook(srv, receiver.url("/1"), **alice)
        r = srv.post("/service/webhooks", json={"url": receiver.url("/4"),
                                                "events": ["flows/created"]}, **alice)
        assert r.status_code == 201
        assert len(srv.get("/service/webhooks", **alice).json()) == 3
    finally:
        srv.stop()


def test_a_jwt_subject_is_not_the_user_of_that_name(tmp_path, receiver):
    srv, _ = start(tmp_path, lambda d: add_user(d, "alice", "read,write", "alice-password"),
                   env=JWT_ENV)
    alice = {"auth": ("alice", "alice-password")}
    jwt_alice = jwt_kw("alice", "read write delete")
    try:
        hook = {"url": receiver.url("/alice"), "events": ["flows/created"],
                "api_key_name": "X-Key", "api_key_value": "alice-key"}
        assert srv.post("/service/webhooks", json=hook, **alice).status_code == 201
        assert srv.get("/service/webhooks", **jwt_alice).json() == []
        for body in (dict(hook, events=[]), dict(hook, events=["flows/deleted"])):
            check_error(srv.post("/service/webhooks", json=body, **jwt_alice), 403)
        mine = srv.get("/service/webhooks", **alice).json()
        assert [h["events"] for h in mine] == [["flows/created"]]
        # the JWT's own registration is its own; another issuer's alice is someone else again
        other = dict(hook, url=receiver.url("/jwt"))
        assert srv.post("/service/webhooks", json=other, **jwt_alice).status_code == 201
        assert [h["url"] for h in srv.get("/service/webhooks", **jwt_alice).json()] == [
            other["url"]]
        assert [h["url"] for h in srv.get("/service/webhooks", **alice).json()] == [hook["url"]]
        iss = jwt_kw("alice", "read write", iss="https://other.example")
        assert srv.get("/service/webhooks", **iss).json() == []
        check_error(srv.post("/service/webhooks", json=dict(other, events=[]), **iss), 403)
        owners = sorted(db_scalar(srv.data_dir, "SELECT owner FROM webhooks WHERE url = ?", u)
                        for u in (hook["url"], other["url"]))
        assert owners == ["jwt::alice", "user:alice"], owners
    finally:
        srv.stop()


def test_api_keys_are_sealed_at_rest(tmp_path, receiver):
    secret = "very-secret-api-key-" + uuid.uuid4().hex
    srv, tok = start(tmp_path, lambda d: add_token(d, "admin", "admin"))
    kw = bearer(tok)
    hook = {"url": receiver.url("/k"), "events": ["flows/created"], "api_key_name": "X-Key",
            "api_key_value": secret}
    try:
        assert srv.post("/service/webhooks", json=hook, **kw).status_code == 201
        got = srv.get("/service/webhooks", **kw)
        assert secret not in got.text and "api_key_value" not in got.text
        assert srv.head("/service/webhooks", **kw).status_code == 200
        # the same identity again is the same registration (found without the value in clear)
        assert srv.post("/service/webhooks", json=hook, **kw).status_code == 201
        assert len(srv.get("/service/webhooks", **kw).json()) == 1
        make_flow(srv, **kw)
        receiver.wait(1, "/k")
        with receiver.lock:
            assert receiver.requests[0][1]["X-Key"] == secret
        url = hook["url"]
        assert db_scalar(srv.data_dir, "SELECT count(*) FROM webhooks WHERE url = ?"
                         " AND api_key_value IS NULL", url) == 1
        sealed = db_scalar(srv.data_dir, "SELECT api_key_sealed FROM webhooks WHERE url = ?", url)
        assert sealed.startswith("v1:") and secret not in sealed
        key = srv.data_dir / "webhook.key"
        assert key.exists() and os.stat(key).st_mode & 0o777 == 0o600
    finally:
        srv.stop()
    if not ON_PG:
        for p in srv.data_dir.rglob("*"):
            if p.is_file():
                assert secret.encode() not in p.read_bytes(), p
    # the key file is kept: after a restart the key still opens
    srv.start()
    try:
        make_flow(srv, **kw)
        receiver.wait(2, "/k")
        with receiver.lock:
            assert all(h["X-Key"] == secret for _, h, _ in receiver.requests)
    finally:
        srv.stop()
    # another key does not open it: the start says so, nothing is sent, and the log says why
    srv.args = ALLOW + ["--webhook-secret-key", "ab" * 32]
    srv.start()
    try:
        msgs = [l.get("msg", "") for l in srv.log_lines() if l.get("level") == "error"]
        assert any("is not the one this store's 1 sealed" in m for m in msgs), msgs
        make_flow(srv, **kw)
        time.sleep(1.5)
        assert len(receiver.events("/k")) == 2
        assert any("does not open" in l.get("msg", "") for l in srv.log_lines())
    finally:
        srv.stop()


def test_webhook_secret_key_setting(make_server, tmpdir_path):
    srv = make_server(args=["--webhook-secret-key", "0123456789ABCDEF" * 4])
    assert not (srv.data_dir / "webhook.key").exists()
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    r = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data-dir",
                        str(tmpdir_path / "d"), "--webhook-secret-key", "xyz"],
                       capture_output=True, text=True, env=e, timeout=30)
    assert r.returncode == 2 and "webhook_secret_key" in r.stderr and "xyz" not in r.stderr
