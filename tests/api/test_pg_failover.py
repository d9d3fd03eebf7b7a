# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL store: failover across the hosts of a multi-host libpq URL.

The module builds its own throwaway primary and a streaming standby of it (initdb, pg_basebackup
-R), and points tamsd at both with target_session_attrs=read-write. It proves that
- flows, sources and segments written through tamsd on the primary survive its crash once the
  standby is promoted: while no host takes writes, requests get 503 with Retry-After and the
  spec's error body; after promotion the same tamsd process (never restarted, never exited) reads
  everything back, media bytes included, and writes again, to the new primary;
- a URL whose first host is dead starts and serves from the next one.
Runs only on PostgreSQL (TAMS_TEST_DATABASE, the third API run of scripts/test.sh); skipped when
the PostgreSQL server binaries (TAMS_TEST_PGBIN, default the newest /usr/lib/postgresql/*/bin)
are missing."""
import os
import time
import uuid

import pytest

from conftest import ON_PG, check_error, free_port, validate
from pgcluster import Node, Place, require_server

pytestmark = pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")

VIDEO = "urn:x-nmos:format:video"
RECOVERY_S = 30  # how long tamsd may take to serve again once the standby is promoted


def poll(what, check, timeout):
    """check() until it returns something truthy (returned), failing with what() on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out after {timeout} s: {what()}"
        time.sleep(0.1)


class Cluster:
    """A primary and a streaming standby of it, under one temp dir."""

    def __init__(self, bindir):
        self.place = Place(bindir, "tamsd-pgfailover-")

    def build(self):
        self.primary = Node(self.place, "primary")
        # initdb's pg_hba already trusts replication from 127.0.0.1 (-A trust).
        self.primary.init(wal_level="replica", max_wal_senders=4, hot_standby="on")
        self.primary.start()
        self.standby = Node(self.place, "standby")
        self.place.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U",
                       "postgres", "-D", str(self.standby.data), "-R", "-c", "fast")
        self.standby.configure(port=self.standby.port)
        self.standby.start()
        self.primary.psql("CREATE DATABASE tams")
        self.wait_replayed()

    def wait_replayed(self):
        """Until the standby has replayed all the WAL the primary has written so far."""
        lsn = self.primary.psql("SELECT pg_current_wal_lsn()")
        poll(lambda: f"standby replay stuck before {lsn}:\n{self.standby.log_tail()}",
             lambda: self.standby.psql(
                 f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") == "t", 60)

    def promote(self):
        self.standby.pg_ctl("promote")
        assert self.standby.psql("SELECT pg_is_in_recovery()") == "f"
        self.primary, self.standby = self.standby, None

    def destroy(self):
        self.place.destroy()


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(require_server())
    try:
        c.build()
        yield c
    finally:
        c.destroy()


# ---- the API side -----------------------------------------------------------------------------


def new_id():
    return str(uuid.uuid4())


def tamsd_url(*ports, db="tams"):
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    return (f"postgresql://postgres@{hosts}/{db}"
            "?target_session_attrs=read-write&connect_timeout=2")


def start_tamsd(make_server, url):
    # An explicit --database wins over the harness's TAMS_TEST_DATABASE.
    return make_server(args=["--database", url, "--access-log", "false"])


def flow_doc(fid, sid, label):
    return {"id": fid, "source_id": sid, "format": VIDEO, "codec": "video/h264",
            "container": "video/mp2t", "label": label,
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}


def put_flow(srv, label):
    fid, sid = new_id(), new_id()
    r = srv.put(f"/flows/{fid}", json=flow_doc(fid, sid, label))
    assert r.status_code == 201, (r.status_code, r.text)
    return fid, sid


def add_segments(srv, fid, first, n):
    """Allocates n objects, uploads their bytes and registers them as segments [first+i, +1);
    returns {timerange: bytes}."""
    r = srv.post(f"/flows/{fid}/storage", json={"limit": n})
    assert r.status_code == 201, (r.status_code, r.text)
    written = {}
    for i, obj in enumerate(r.json()["media_objects"]):
        data = os.urandom(1000 + i)
        put = obj["put_url"]
        up = srv.session.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                             timeout=30)
        assert up.status_code == 200, (up.status_code, up.text)
        tr = f"[{first + i}:0_{first + i + 1}:0)"
        seg = srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                        "timerange": tr})
        assert seg.status_code == 201, (seg.status_code, seg.text)
        written[tr] = data
    return written


def check_segments(srv, fid, written):
    """The flow lists exactly the segments written, and each one's media reads back."""
    r = srv.get(f"/flows/{fid}/segments")
    assert r.status_code == 200, (r.status_code, r.text)
    segs = r.json()
    for seg in segs:
        validate(seg, "flow-segment.json")
    assert sorted(s["timerange"] for s in segs) == sorted(written), segs
    for seg in segs:
        media = srv.session.get(seg["get_urls"][0]["url"], timeout=30)
        assert media.status_code == 200, (seg, media.status_code)
        assert media.content == written[seg["timerange"]], f"media of {seg['timerange']} differs"


def check_unavailable(r):
    err = check_error(r, 503)
    assert err["type"] == "ServiceUnavailable", err
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert int(r.headers["Retry-After"]) > 0, r.headers


# ---- tests ------------------------------------------------------------------------------------


def test_dead_first_host_is_skipped(cluster, make_server):
    """libpq tries the hosts in order: a dead first one only costs a refused connect."""
    cluster.primary.psql("CREATE DATABASE tams_deadfirst")
    srv = start_tamsd(make_server, tamsd_url(free_port(), cluster.primary.port,
                                             db="tams_deadfirst"))
    fid, sid = put_flow(srv, "dead-first")
    written = add_segments(srv, fid, 0, 2)
    assert srv.get(f"/flows/{fid}").json()["label"] == "dead-first"
    assert srv.get(f"/sources/{sid}").status_code == 200
    check_segments(srv, fid, written)
    assert cluster.primary.psql(f"SELECT count(*) FROM flows WHERE id = '{fid}'",
                                db="tams_deadfirst") == "1"
    assert srv.proc.poll() is None, "tamsd exited:\n" + srv.stderr()


def test_failover_to_promoted_standby(cluster, make_server):
    old, new = cluster.primary, cluster.standby
    srv = start_tamsd(make_server, tamsd_url(old.port, new.port))

    # Written through tamsd on the primary, and replayed on the standby before the crash.
    flows = {}
    for i in range(3):
        fid, sid = put_flow(srv, f"before-{i}")
        flows[fid] = (sid, f"before-{i}", add_segments(srv, fid, 10 * i, 3))
    for _ in range(8):  # several pooled connections, all of which the crash leaves stale
        assert srv.get("/flows").status_code == 200
    cluster.wait_replayed()

    old.crash()
    # Only a read-only standby is left: no host qualifies, every request is a 503. Writes
    # first: they never come from a cache.
    fid0 = next(iter(flows))
    for method, path, body in (
            ("PUT", f"/flows/{fid0}", flow_doc(fid0, flows[fid0][0], "during")),
            ("POST", f"/flows/{fid0}/storage", {"limit": 1}),
            ("POST", f"/flows/{fid0}/segments", {"object_id": "ext-1", "timerange": "[99:0_100:0)",
                                                 "get_urls": [{"url": "http://x.example/1"}]}),
            ("GET", f"/flows/{fid0}", None), ("GET", "/flows", None),
            ("GET", f"/sources/{flows[fid0][0]}", None), ("GET", f"/flows/{fid0}/segments", None)):
        for _ in range(3):  # stale pooled connections and fresh connects alike
            check_unavailable(srv.request(method, path, json=body))
    assert srv.proc.poll() is None, "tamsd exited while no host took writes:\n" + srv.stderr()

    cluster.promote()

    # The same process serves again: polled, each answer on the way a 503, never a 500 from
    # talking to a read-only host.
    def back():
        r = srv.get(f"/flows/{fid0}")
        if r.status_code != 200:
            check_unavailable(r)
        return r.status_code == 200
    poll(lambda: "tamsd did not serve again after promotion:\n" + srv.stderr()[-3000:], back,
         RECOVERY_S)

    # Everything written before the crash, nothing of what was refused during it.
    for fid, (sid, label, written) in flows.items():
        r = srv.get(f"/flows/{fid}")
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json()["label"] == label, r.json()
        assert srv.get(f"/sources/{sid}").status_code == 200
        check_segments(srv, fid, written)
    listed = {f["id"] for f in srv.get("/flows").json()}
    assert set(flows) <= listed, listed

    # Writes succeed, and land on the new primary.
    r = srv.put(f"/flows/{fid0}", json=flow_doc(fid0, flows[fid0][0], "after"))
    assert r.status_code == 204, (r.status_code, r.text)
    assert srv.get(f"/flows/{fid0}").json()["label"] == "after"
    more = add_segments(srv, fid0, 100, 1)
    check_segments(srv, fid0, {**flows[fid0][2], **more})
    fid_new, _ = put_flow(srv, "after-failover")
    add_segments(srv, fid_new, 0, 1)
    assert new.psql(f"SELECT count(*) FROM flows WHERE id = '{fid_new}'", db="tams") == "1"
    assert new.psql(f"SELECT label FROM flows WHERE id = '{fid0}'", db="tams") == "after"

    assert srv.proc.poll() is None, "tamsd exited during the failover:\n" + srv.stderr()
    logs = srv.stderr()
    assert "connection lost" in logs or "cannot connect" in logs, logs[-2000:]
