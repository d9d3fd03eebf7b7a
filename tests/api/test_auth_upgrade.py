# SPDX-License-Identifier: Apache-2.0
"""A store made by the release before principals were namespaced and api keys sealed
(tests/api/fixtures, made by make_release_store.py with that release's tamsd) opened by this
one, on the run's back end (SQLite, or PostgreSQL with TAMS_TEST_DATABASE): owners map to the
user or token of their name, keys are sealed, and each webhook keeps working for its owner
(docs/authentication.md, "Upgrading")."""
import hashlib
import pathlib
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import ON_PG, TEST_DATABASE, Server, check_error, db_scalar, psql
from test_auth import ISSUER, JWT_SECRET, add_token, add_user, jwt_hs256
from test_webhooks import Receiver

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
RELEASE_HOOK = "http://127.0.0.1:9/"  # where the release's webhooks point
ALLOW = ["--webhooks-allow-private", "true"]
JWT_ENV = {"TAMS_JWT_ALG": "HS256", "TAMS_JWT_SECRET": JWT_SECRET, "TAMS_JWT_ISSUER": ISSUER}
VIDEO = {"format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp2t",
         "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def load_release_store(data_dir, hook_base):
    """The release's store, its webhooks pointed at hook_base, where a server on data_dir finds
    it (conftest.pg_schema_url names the same schema)."""
    data_dir.mkdir(parents=True)
    if ON_PG:
        schema = "t_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:20]
        text = (FIXTURES / "release-pg.sql").read_text()
        text = text.replace("tams_release_fixture", schema).replace(RELEASE_HOOK, hook_base)
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        subprocess.run(["psql", TEST_DATABASE, "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"],
                       input=text, check=True, capture_output=True, text=True, timeout=60)
    else:
        text = (FIXTURES / "release-sqlite.sql").read_text().replace(RELEASE_HOOK, hook_base)
        with sqlite3.connect(data_dir / "tams.db") as db:
            db.executescript(text)


def release_hook(name, key, events=("flows/created", "flows/updated"), base=None):
    return {"url": base + name, "events": list(events), "api_key_name": "X-Key",
            "api_key_value": key}


def bearer(tok):
    return {"headers": {"Authorization": "Bearer " + tok}}


def jwt_of(sub):
    return bearer(jwt_hs256({"sub": sub, "scope": "read write", "iss": ISSUER,
                             "exp": int(time.time()) + 600}))


def make_flow(srv, kw):
    fid = str(uuid.uuid4())
    r = srv.put(f"/flows/{fid}", json=dict(VIDEO, id=fid, source_id=str(uuid.uuid4())), **kw)
    assert r.status_code == 201, r.text
    return fid


def withheld(srv, kw):
    for line in srv.get("/metrics", **kw).text.splitlines():
        if line.startswith("tams_webhook_withheld_total "):
            return float(line.split()[-1])
    raise AssertionError("no tams_webhook_withheld_total")


def test_release_store_keeps_working_for_its_owners(tmp_path, receiver):
    data = tmp_path / "data"
    base = receiver.url("/")
    load_release_store(data, base)
    # the credentials of the release's store, by name (their secrets are new)
    add_user(data, "alice", "read,write", "alice-password")
    add_user(data, "bob", "write", "bob-password")
    ci = bearer(add_token(data, "ci", "read,write"))
    root = bearer(add_token(data, "root", "admin"))
    alice = {"auth": ("alice", "alice-password")}
    srv = Server(tmp_path, args=ALLOW, env=JWT_ENV, data_dir=data).start()
    try:
        def owner(name):
            return db_scalar(data, "SELECT COALESCE(owner, '-') FROM webhooks WHERE url = ?",
                             base + name)

        def urls(kw):
            r = srv.get("/service/webhooks", **kw)
            assert r.status_code == 200, r.text
            return sorted(h["url"] for h in r.json())

        assert [owner(n) for n in ("alice", "ci", "bob", "carol", "anon")] == [
            "user:alice", "token:ci", "user:bob", "legacy:carol", "-"]
        assert db_scalar(data, "SELECT count(*) FROM webhooks WHERE api_key_value IS NOT NULL") == 0
        assert db_scalar(data, "SELECT count(*) FROM webhooks WHERE api_key_sealed LIKE 'v1:%'"
                         " AND api_key_id IS NOT NULL") == 4
        for secret in ("alice-secret", "ci-secret", "carol-secret", "bob-secret"):
            assert db_scalar(data, "SELECT count(*) FROM webhooks WHERE api_key_sealed LIKE ?",
                             f"%{secret}%") == 0
        msgs = [l.get("msg", "") for l in srv.log_lines()]
        assert any("sealed the api keys of 4 webhook(s)" in m for m in msgs), msgs
        assert any("1 webhook(s) of an older release" in m for m in msgs), msgs
        # each owner sees its own; the unclaimed one and the anonymous one only admins
        assert urls(alice) == [base + "alice"]
        assert urls(ci) == [base + "ci"]
        assert urls(jwt_of("carol")) == []
        assert len(urls(root)) == 5
        # a JWT whose subject is alice is not the user alice
        check_error(srv.post("/service/webhooks", **jwt_of("alice"),
                             json=release_hook("alice", "alice-secret", [], base)), 403)
        # posted again, a registration is found by its (sealed) key: an update, not a second
        r = srv.post("/service/webhooks", json=release_hook("alice", "alice-secret", base=base),
                     **alice)
        assert r.status_code == 201, r.text
        assert len(urls(root)) == 5
        # delivered to alice and ci with their keys; bob may not read, carol's is not claimed,
        # anonymous webhooks stop once authentication is in force
        before = withheld(srv, root)
        make_flow(srv, root)
        receiver.wait(1, "/alice")
        receiver.wait(1, "/ci")
        deadline = time.time() + 10
        while withheld(srv, root) < before + 3:
            assert time.time() < deadline
            time.sleep(0.1)
        with receiver.lock:
            keys = {p: h.get("X-Key") for p, h, _ in receiver.requests}
        assert keys == {"/alice": "alice-secret", "/ci": "ci-secret"}, keys
        # carol claims hers by registering it again: her principal now, delivered again
        r = srv.post("/service/webhooks", json=release_hook("carol", "carol-secret", base=base),
                     **jwt_of("carol"))
        assert r.status_code == 201, r.text
        assert owner("carol") == "jwt:https%3A//idp.example:carol"
        assert urls(jwt_of("carol")) == [base + "carol"]
        make_flow(srv, root)
        receiver.wait(1, "/carol")
        with receiver.lock:
            assert [h.get("X-Key") for p, h, _ in receiver.requests if p == "/carol"] == [
                "carol-secret"]
        assert receiver.events("/bob") == [] and receiver.events("/anon") == []
    finally:
        srv.stop()
    # a second start has nothing left to do
    srv.start()
    try:
        msgs = [l.get("msg", "") for l in srv.log_lines()]
        assert not any("sealed the api keys" in m or "older release" in m for m in msgs), msgs
        assert db_scalar(data, "SELECT count(*) FROM webhooks WHERE owner LIKE 'legacy:%'") == 0
    finally:
        srv.stop()
