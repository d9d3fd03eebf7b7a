# SPDX-License-Identifier: Apache-2.0
"""GET /ready: 200 only when the store answers and every media backend can take uploads, else
503 with the spec's error body naming the part that failed. Open like /health and not in the
access log. The failures are real: the data directory's upload folder made unwritable, every
S3 endpoint gone (a real S3 test server stopped), PostgreSQL stopped (a server of the test's own,
pgcluster.py; only in the PostgreSQL API run)."""
import pathlib
import shutil
import socket
import time
import uuid

import pytest

from conftest import ON_PG, S3TestServer, check_error
from pgcluster import own_pg  # noqa: F401 (a fixture)

S3_ID = "7d2f4b9a-5e4c-4b83-9f30-9c6d0e1f2a33"


def wait_ready(srv, status, timeout=10):
    deadline = time.time() + timeout
    while (r := srv.get("/ready")).status_code != status and time.time() < deadline:
        time.sleep(0.1)
    assert r.status_code == status, r.text
    return r


def dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ready_when_store_and_backends_answer(server):
    r = server.get("/ready", headers={"X-Request-Id": "ready-probe"})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}
    assert server.head("/ready").status_code == 200
    check_error(server.post("/ready"), 405)
    # Not logged: a marker request after it is, the probe is not.
    server.get("/service", headers={"X-Request-Id": "ready-marker"})
    deadline = time.time() + 5
    while time.time() < deadline:
        ids = {l.get("request_id") for l in server.log_lines() if l.get("msg") == "request"}
        if "ready-marker" in ids:
            break
        time.sleep(0.05)
    assert "ready-marker" in ids and "ready-probe" not in ids


def test_unwritable_data_directory_is_not_ready(server):
    """The built-in store's upload folder replaced by a file (root writes through any mode, so
    a chmod would prove nothing): 503 naming the backend; back to 200 once it is restored."""
    tmp = pathlib.Path(server.data_dir) / "objects" / "tmp"
    assert server.get("/ready").status_code == 200
    shutil.move(tmp, str(tmp) + ".away")
    tmp.write_text("not a folder")
    try:
        err = check_error(server.get("/ready"), 503)
        assert err["type"] == "ServiceUnavailable"
        assert "media backend 'local'" in err["summary"] and "objects/tmp" in err["summary"], err
        # Liveness is unaffected: the process is fine, it only cannot take uploads.
        assert server.get("/health").status_code == 200
    finally:
        tmp.unlink()
        shutil.move(str(tmp) + ".away", tmp)
    assert server.get("/ready").status_code == 200


def test_all_s3_endpoints_down_is_not_ready(make_server, tmpdir_path):
    s3 = S3TestServer(tmpdir_path / "s3", "AKIAIOSFODNN7EXAMPLE", "ready-secret", "eu-west-2")
    (tmpdir_path / "s3").mkdir()
    s3.start()
    try:
        s3.create_bucket("tams-media")
        doc = {"backends": [{
            "id": S3_ID, "label": "s3-ready", "type": "s3", "region": "eu-west-2",
            "endpoints": [f"http://127.0.0.1:{dead_port()}", f"http://127.0.0.1:{s3.port}"],
            "bucket": "tams-media", "addressing": "path", "access_key": s3.access_key,
            "secret_key": s3.secret_key, "probe_interval": 1, "default": True}]}
        conf = tmpdir_path / "storage.json"
        conf.write_text(__import__("json").dumps(doc))
        srv = make_server(args=["--storage-config", str(conf)])
        time.sleep(1.5)  # past the first probe: one endpoint dead, one alive is still ready
        assert srv.get("/ready").status_code == 200
    finally:
        s3.stop()
    r = wait_ready(srv, 503)
    err = check_error(r, 503)
    assert "media backend 's3-ready'" in err["summary"], err
    assert "none of its 2 S3 endpoints" in err["summary"], err
    assert srv.get("/health").status_code == 200


@pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")
def test_store_down_is_not_ready(make_server, own_pg):
    srv = make_server(args=["--database", own_pg.url("tams"), "--access-log", "false"])
    assert srv.get("/ready").status_code == 200
    own_pg.stop()
    try:
        for _ in range(3):  # stale pooled connections and fresh connects alike
            err = check_error(srv.get("/ready"), 503)
            assert "postgresql store does not answer" in err["summary"], err
        assert srv.get("/health").status_code == 200
    finally:
        own_pg.start()
    wait_ready(srv, 200, timeout=5)
