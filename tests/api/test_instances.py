# SPDX-License-Identifier: Apache-2.0
"""Several tamsd instances on one PostgreSQL database (and one media directory): a write through
one is read through another at once, caches included; a flow deletion started on an instance
that is then killed is finished by another; webhook events are delivered exactly once, in order,
whichever instance made them and whichever delivers them. PostgreSQL only."""
import signal
import threading
import time
import uuid

import pytest
import requests

from conftest import ON_PG, Server, check_error
from test_deletion import allocate, make_flow, post, tr, upload, wait_done
from test_read_cache import (cache_counts, flow_body, segment_writes_keep_other_flows_cached,
                             wait_trusted)
from test_webhooks import ALLOW, Receiver, register

pytestmark = pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")


@pytest.fixture
def cluster(tmp_path):
    """start(n, args) -> n started Servers sharing one database schema and media directory."""
    started = []

    def start(n, args=()):
        data = tmp_path / "data"
        for _ in range(n):
            srv = Server(tmp_path / f"i{len(started)}", args=list(args), data_dir=data)
            srv.tmp.mkdir(parents=True)
            started.append(srv.start())
        return started[-n:]

    yield start
    for srv in started:
        if srv.proc:
            srv.stop()


def test_writes_through_one_are_read_through_the_other_at_once(cluster):
    a, b = cluster(2, ["--access-log", "false"])
    for srv in (a, b):
        wait_trusted(srv)
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert a.put(f"/flows/{fid}", json=flow_body(fid, sid, "v0")).status_code == 201
    hits0 = {s: cache_counts(s)[0] + cache_counts(s, "source")[0] for s in (a, b)}
    for i in range(1, 41):
        writer, reader = (a, b) if i % 2 else (b, a)
        # The reader holds the current documents in its caches...
        for _ in range(2):
            reader.get(f"/flows/{fid}")
            reader.get(f"/sources/{sid}")
        # ...a write elsewhere is what the reader answers as soon as the write is answered.
        assert writer.put(f"/flows/{fid}/label", json=f"v{i}").status_code == 204
        assert reader.get(f"/flows/{fid}").json()["label"] == f"v{i}", i
        assert writer.put(f"/sources/{sid}/label", json=f"s{i}").status_code == 204
        assert reader.get(f"/sources/{sid}").json()["label"] == f"s{i}", i
    for srv in (a, b):  # the caches were in play, not bypassed
        hits = cache_counts(srv)[0] + cache_counts(srv, "source")[0]
        assert hits - hits0[srv] >= 40, (srv.url, hits - hits0[srv])
    # Segments: added through one, listed and reflected in the flow through the other.
    assert a.post(f"/flows/{fid}/segments", json={
        "object_id": "ext-1", "timerange": tr(0, 1),
        "get_urls": [{"url": "http://media.example.com/1"}]}).status_code == 201
    assert [s["timerange"] for s in b.get(f"/flows/{fid}/segments").json()] == ["[0:0_1:0)"]
    assert "segments_updated" in b.get(f"/flows/{fid}").json()
    # Deletion through one: gone through the other, flow and source.
    b.get(f"/flows/{fid}")
    assert a.delete(f"/flows/{fid}").status_code == 204
    check_error(b.get(f"/flows/{fid}"), 404)
    check_error(b.get(f"/sources/{sid}"), 404)


def test_segment_writes_through_one_evict_that_flow_only_on_the_other(cluster):
    a, b = cluster(2, ["--access-log", "false"])
    for srv in (a, b):
        wait_trusted(srv)
    segment_writes_keep_other_flows_cached(a, b)


def test_concurrent_writers_never_leave_a_stale_read(cluster):
    """Writes through two instances at once, each read back at once through the other: commits
    finish in any order, and none may be answered before every other instance dropped what it
    cached."""
    a, b = cluster(2, ["--access-log", "false"])
    for srv in (a, b):
        wait_trusted(srv)
    stale = []

    def run(k):
        writer, reader = (a, b) if k % 2 else (b, a)
        w, r = requests.Session(), requests.Session()
        fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        assert w.put(f"{writer.url}/flows/{fid}", json=flow_body(fid, sid, "0")).status_code == 201
        for i in range(1, 60):
            r.get(f"{reader.url}/flows/{fid}")  # cached on the reader
            assert w.put(f"{writer.url}/flows/{fid}/label", json=str(i)).status_code == 204
            got = r.get(f"{reader.url}/flows/{fid}").json()["label"]
            if got != str(i):
                stale.append((k, i, got))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not stale, stale[:10]


def test_an_instance_that_dies_delays_writes_once_by_its_lease_at_most(cluster):
    a, b = cluster(2, ["--access-log", "false"])
    wait_trusted(b)
    b.stop(sig=signal.SIGKILL, check=False)
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    t0 = time.time()
    assert a.put(f"/flows/{fid}", json=flow_body(fid, sid, "x")).status_code == 201
    first = time.time() - t0
    assert first < 5, first  # the lease runs 3 s
    t0 = time.time()
    for i in range(10):
        assert a.put(f"/flows/{fid}/label", json=f"v{i}").status_code == 204
    assert time.time() - t0 < 2, "writes kept waiting for a dead instance"


def test_flow_deletion_started_on_a_killed_instance_is_finished_by_another(cluster):
    args = ["--delete-sync-limit", "5", "--delete-batch", "10", "--gc-grace", "0",
            "--gc-interval", "1", "--access-log", "false"]
    a, b = cluster(2, args)
    fid, keep = make_flow(a), make_flow(a)
    objs = []
    while len(objs) < 20:
        objs += allocate(a, fid, 20)
    for i, o in enumerate(objs):
        upload(a, o, f"object {i}".encode())
    post(a, fid, [{"object_id": objs[i % 20]["object_id"], "timerange": tr(i, i + 1)}
                  for i in range(3000)])
    post(a, keep, [{"object_id": objs[0]["object_id"], "timerange": tr(0, 1)}])
    r = a.delete(f"/flows/{fid}")
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    a.stop(sig=signal.SIGKILL, check=False)
    done = wait_done(b, f"{b.url}/flow-delete-requests/{rid}", timeout=60)
    assert done["status"] == "done", done
    check_error(b.get(f"/flows/{fid}"), 404)
    assert b.get(f"/flows/{keep}/segments").json()[0]["object_id"] == objs[0]["object_id"]
    assert b.get(f"/objects/{objs[0]['object_id']}").status_code == 200


def test_each_webhook_event_is_delivered_exactly_once_in_order(cluster):
    instances = cluster(3, ALLOW + ["--access-log", "false"])
    rec = Receiver()
    try:
        register(instances[0], url=rec.url("/r"), events=["flows/created", "flows/updated"])
        fids = [str(uuid.uuid4()) for _ in range(30)]
        expected = []

        def write(srv, part):
            for i, fid in enumerate(part):
                body = flow_body(fid, str(uuid.uuid4()), "x")
                assert srv.put(f"/flows/{fid}", json=body).status_code == 201
                assert srv.put(f"/flows/{fid}/label", json="y").status_code == 204

        # Writes through all three at once; then the instance most likely to hold the lease
        # stops (gives it up) half-way, and another carries on.
        parts = [fids[i::3] for i in range(3)]
        threads = [threading.Thread(target=write, args=(s, p)) for s, p in zip(instances, parts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        instances[0].stop()
        more = [str(uuid.uuid4()) for _ in range(6)]
        write(instances[1], more[:3])
        write(instances[2], more[3:])
        for fid in fids + more:
            expected += [("flows/created", fid), ("flows/updated", fid)]
        got = rec.wait(len(expected), "/r", timeout=60)
        time.sleep(1.5)  # anything sent twice would arrive by now
        got = rec.events("/r")
        seen = [(e["event_type"], e["event"]["flow"]["id"]) for e in got]
        assert len(seen) == len(set(seen)) == len(expected), "an event was sent twice or lost"
        assert set(seen) == set(expected)
        for fid in fids + more:  # each flow's events in the order they happened
            assert seen.index(("flows/created", fid)) < seen.index(("flows/updated", fid))
    finally:
        rec.close()


def test_webhooks_of_a_killed_instance_are_taken_over(cluster):
    """The instance delivering a webhook dies with events still to send (the receiver is
    away): once its lease runs out (3 x webhook_timeout + 10 s) another instance sends them,
    each once, in order."""
    a, b = cluster(2, ALLOW + ["--access-log", "false", "--webhook-timeout", "1"])
    rec = Receiver()
    try:
        register(a, url=rec.url("/r"), events=["flows/created"])
        fids = [make_flow(a) for _ in range(2)]
        rec.wait(2, "/r")  # a delivered or b did: whoever holds the lease
        rec.status = 503  # the receiver fails from now on; events wait behind the first
        fids += [make_flow(b) for _ in range(3)]
        time.sleep(1)
        for srv in (a, b):
            srv.stop(sig=signal.SIGKILL, check=False)  # whoever held it, it is dead now
        c, = cluster(1, ALLOW + ["--access-log", "false", "--webhook-timeout", "1"])
        rec.status = 200
        t0 = time.time()
        got = rec.wait(5, "/r", timeout=40)
        took = time.time() - t0
        time.sleep(1)
        got = rec.events("/r")
        assert [e["event"]["flow"]["id"] for e in got] == fids, "lost, repeated or reordered"
        assert took < 20, took  # the lease ran 13 s at most
        assert c.proc.poll() is None
    finally:
        rec.close()


def test_a_restart_after_a_crash_does_not_wait_for_the_dead_lease(cluster):
    """An instance killed outright leaves its row in tams_instances with up to 3 s of lease left.
    An instance started at once after it must not make its writes wait for that lease: the
    database has no session of the dead process any more (pg_peers.h). Before, the first write
    waited until the dead peer's lease ran out (3 s here)."""
    (a,) = cluster(1, ["--access-log", "false"])
    wait_trusted(a)  # renewing its lease every 0.5 s
    a.stop(sig=signal.SIGKILL, check=False)
    killed = time.time()
    (b,) = cluster(1, ["--access-log", "false"])
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    t0 = time.time()
    assert b.put(f"/flows/{fid}", json=flow_body(fid, sid, "v0")).status_code == 201
    worst, n = time.time() - t0, 1
    while time.time() - killed < 3.5:  # the whole of the dead row's lease
        t0 = time.time()
        assert b.put(f"/flows/{fid}/label", json=f"v{n}").status_code == 204
        worst = max(worst, time.time() - t0)
        n += 1
    assert worst < 1.5, f"a write waited {worst:.2f} s (of {n})"
