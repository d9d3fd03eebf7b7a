# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL store: the database stops mid-run (pg_ctl stop -m fast) and comes back. While it is
away requests get 503 with Retry-After and the error body; after it returns the same tamsd
process serves again, with nothing lost. Runs only in the PostgreSQL API run, on a PostgreSQL
server of the test's own (pgcluster.py: the shared one serves the tests running beside)."""
import time
import uuid

import pytest

from conftest import ON_PG, check_error
from pgcluster import own_pg  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")


def flow(fid, sid, label):
    return {"id": fid, "source_id": sid, "format": "urn:x-nmos:format:video",
            "codec": "video/h264", "container": "video/mp2t", "label": label,
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}


def test_database_outage_then_recovery(make_server, own_pg):
    srv = make_server(args=["--database", own_pg.url("tams"), "--access-log", "false"])
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert srv.put(f"/flows/{fid}", json=flow(fid, sid, "before")).status_code == 201
    # Several requests first, so the pool holds several connections that will all go stale.
    for _ in range(8):
        assert srv.get(f"/flows/{fid}").status_code == 200

    own_pg.stop()
    try:
        for method, path, body in (("GET", f"/flows/{fid}", None), ("GET", "/flows", None),
                                   ("GET", f"/sources/{sid}", None),
                                   ("PUT", f"/flows/{fid}", flow(fid, sid, "during")),
                                   ("GET", f"/flows/{fid}/segments", None)):
            for _ in range(3):  # stale pooled connections and fresh connects alike
                r = srv.request(method, path, json=body)
                err = check_error(r, 503)
                assert r.headers.get("Retry-After") == "1", r.headers
                assert err["type"] == "ServiceUnavailable", err
        assert srv.proc.poll() is None, "tamsd exited while the database was away"
    finally:
        own_pg.start()

    # Back: the same process serves again within a second, reads and writes, and lost nothing.
    # While the database was away one connection attempt at a time was allowed (a background
    # job's, or a request's); a request that arrives while that attempt is still under way is
    # told 503 + Retry-After: 1 rather than made to wait for it, so allow that second.
    deadline = time.time() + 2
    while (r := srv.get(f"/flows/{fid}")).status_code == 503 and time.time() < deadline:
        time.sleep(0.05)
    assert r.status_code == 200, r.text
    assert r.json()["label"] == "before"
    for i in range(20):  # every pooled connection is reopened, none answers 503
        assert srv.get(f"/flows/{fid}").status_code == 200
    assert srv.put(f"/flows/{fid}", json=flow(fid, sid, "after")).status_code == 204
    assert srv.get(f"/flows/{fid}").json()["label"] == "after"
    assert srv.get(f"/sources/{sid}").status_code == 200
    fid2 = str(uuid.uuid4())
    assert srv.put(f"/flows/{fid2}", json=flow(fid2, sid, "new")).status_code == 201
    logs = srv.stderr()
    assert "connection lost" in logs or "cannot connect" in logs, logs[-2000:]
