# SPDX-License-Identifier: Apache-2.0
"""`tamsd backup DEST --objects` while a tamsd runs and writes (src/store/backup.h).

A writer thread keeps creating flows, uploading objects to the built-in store and registering
segments; the backup is taken in the middle of it. A second tamsd started on the copy must hold
everything that was answered before the backup started, byte for byte, and the copied store
must pass PRAGMA integrity_check. SQLite only: with PostgreSQL the command copies the files and
says to use pg_dump, which the last test checks."""
import hashlib
import os
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BIN, ON_PG, Server, pg_schema_url

VIDEO = "urn:x-nmos:format:video"


def flow_doc():
    return {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": VIDEO,
            "codec": "video/h264", "container": "video/mp2t", "label": "backup",
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}


def write_one(srv, n):
    """A flow with one uploaded, registered segment; returns (flow id, object id, digest)."""
    doc = flow_doc()
    assert srv.put(f"/flows/{doc['id']}", json=doc).status_code == 201
    r = srv.post(f"/flows/{doc['id']}/storage", json={"limit": 1})
    assert r.status_code == 201, r.text
    obj = r.json()["media_objects"][0]
    data = os.urandom(1024 + n % 4096)
    r = srv.session.put(obj["put_url"]["url"], data=data,
                        headers={"Content-Type": obj["put_url"]["content-type"]}, timeout=30)
    assert r.status_code == 200, r.text
    r = srv.post(f"/flows/{doc['id']}/segments",
                 json={"object_id": obj["object_id"], "timerange": f"[{n}:0_{n + 1}:0)"})
    assert r.status_code == 201, r.text
    return doc["id"], obj["object_id"], n, hashlib.sha256(data).hexdigest()


def backup(data_dir, dest, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    return subprocess.run([BIN, "backup", str(dest), "--data-dir", str(data_dir), *extra],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(ON_PG, reason="the SQLite store's copy; PostgreSQL is pg_dump's")
def test_backup_during_writes_restores_everything_before_it(tmpdir_path):
    srv = Server(tmpdir_path / "live", args=["--access-log", "false"])
    srv.tmp.mkdir()
    srv.start()
    done, stop, errors = [], threading.Event(), []

    def writer():
        n = 0
        try:
            while not stop.is_set():
                done.append(write_one(srv, n))
                n += 1
        except Exception as e:  # reported below, not lost in the thread
            errors.append(e)

    try:
        for n in range(100):  # a store with something in it before the writer starts
            done.append(write_one(srv, 100000 + n))
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1)
        before = list(done)  # answered before the backup started
        dest = tmpdir_path / "copy"
        r = backup(srv.data_dir, dest, "--objects")
        time.sleep(0.5)  # writes go on after it too
        stop.set()
        t.join()
        assert not errors, errors
        assert r.returncode == 0, r.stderr
        assert "SQLite store" in r.stdout and "object files" in r.stdout, r.stdout
        assert len(done) > len(before) > 100, (len(before), len(done))
        assert srv.proc.poll() is None
    finally:
        stop.set()
        srv.stop()

    with sqlite3.connect(dest / "tams.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (dest / "objects" / "tmp").exists() or not any((dest / "objects" / "tmp").iterdir())

    copy = Server(tmpdir_path / "restored", data_dir=dest)
    copy.tmp.mkdir()
    copy.start()
    try:
        for fid, oid, n, digest in before:
            r = copy.get(f"/flows/{fid}/segments")
            assert r.status_code == 200, r.text
            segs = r.json()
            assert [s["object_id"] for s in segs] == [oid], (fid, segs)
            assert segs[0]["timerange"] == f"[{n}:0_{n + 1}:0)"
            url = segs[0]["get_urls"][0]["url"]
            body = copy.session.get(url, timeout=30)
            assert body.status_code == 200, (url, body.status_code)
            assert hashlib.sha256(body.content).hexdigest() == digest, fid
        # The copy is a working store: it takes writes too.
        write_one(copy, 999999)
    finally:
        copy.stop()


@pytest.mark.skipif(ON_PG, reason="SQLite")
def test_backup_refuses_a_destination_in_use(tmpdir_path, make_server):
    srv = make_server()
    dest = tmpdir_path / "busy"
    dest.mkdir()
    (dest / "keep").write_text("mine")
    r = backup(srv.data_dir, dest)
    assert r.returncode == 1 and "is not empty" in r.stderr, (r.returncode, r.stderr)
    assert [p.name for p in dest.iterdir()] == ["keep"]
    r = subprocess.run([BIN, "backup"], capture_output=True, text=True)
    assert r.returncode == 2 and "Usage: tamsd backup" in r.stderr
    r = backup(tmpdir_path / "nothing-here", tmpdir_path / "out")
    assert r.returncode == 1 and "cannot open the store" in r.stderr, r.stderr


@pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")
def test_backup_with_postgresql_copies_files_and_points_to_pg_dump(tmpdir_path, make_server):
    srv = make_server()
    dest = tmpdir_path / "pgcopy"
    r = backup(srv.data_dir, dest, "--database", pg_schema_url(srv.data_dir))
    assert r.returncode == 0, r.stderr
    assert "pg_dump" in r.stdout
    assert (dest / "media.secret").exists() and not (dest / "tams.db").exists()
