# SPDX-License-Identifier: Apache-2.0
"""The metrics the Prometheus rules and the Grafana dashboard read (deploy/prometheus,
deploy/grafana): process, data directory, build, store, ingest, garbage collection and
deletion. Each is driven by real work and read back from GET /metrics."""
import os
import re
import subprocess
import time

import pytest

from conftest import BIN, ON_PG, Server
from test_deletion import allocate, make_flow, post, tr, upload

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")


def scrape(srv):
    """{'name{labels}': value} of every sample."""
    r = srv.get("/metrics")
    assert r.status_code == 200, r.text
    out = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            m = SAMPLE.match(line)
            assert m, line
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def wait_for(srv, name, pred, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = scrape(srv).get(name)
        if v is not None and pred(v):
            return v
        assert time.time() < deadline, f"{name} = {v}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("ops-metrics"),
               args=["--gc-grace", "0", "--gc-interval", "1", "--delete-sync-limit", "2",
                     "--delete-batch", "1"])
    s.start()
    yield s
    s.stop()


def test_process_metrics(srv):
    m = scrape(srv)
    pid = srv.proc.pid
    with open(f"/proc/{pid}/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    assert abs(m["process_resident_memory_bytes"] - rss) < 16 << 20
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    assert abs(m["process_open_fds"] - fds) <= 4
    with open(f"/proc/{pid}/limits") as f:
        soft = next(l for l in f if l.startswith("Max open files")).split()[3]
    assert m["process_max_fds"] == float(soft)
    assert time.time() - 120 < m["process_start_time_seconds"] <= time.time()


def test_data_dir_space(srv):
    m = scrape(srv)
    st = os.statvfs(srv.data_dir)
    assert m["tams_data_dir_size_bytes"] == st.f_blocks * st.f_frsize
    assert abs(m["tams_data_dir_free_bytes"] - st.f_bavail * st.f_frsize) < 256 << 20


def test_build_info(srv):
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[1]
    info = [k for k in scrape(srv) if k.startswith("tams_build_info{")]
    assert len(info) == 1
    assert f'version="{version}"' in info[0]
    assert re.search(r'commit="([0-9a-f]{7,40})?"', info[0])


def test_store_up(srv):
    assert scrape(srv)["tams_store_up"] == 1


def test_ingest_counters(srv):
    before = scrape(srv)
    fid = make_flow(srv)
    objs = allocate(srv, fid, 3)
    for i, o in enumerate(objs):
        upload(srv, o, b"x" * (1000 * (i + 1)))
    post(srv, fid, [{"object_id": o["object_id"], "timerange": tr(i, i + 1)}
                    for i, o in enumerate(objs)])
    post(srv, fid, {"object_id": objs[0]["object_id"], "timerange": tr(10, 11)})
    after = scrape(srv)
    assert after["tams_segments_registered_total"] - before["tams_segments_registered_total"] == 4
    assert after["tams_media_uploaded_bytes_total"] - before["tams_media_uploaded_bytes_total"] \
        == 6000
    # A refused registration (overlap) counts nothing.
    r = srv.post(f"/flows/{fid}/segments",
                 json={"object_id": objs[0]["object_id"], "timerange": tr(0, 1)})
    assert r.status_code >= 400
    assert scrape(srv)["tams_segments_registered_total"] == after["tams_segments_registered_total"]


def test_gc_and_deletion_counters(srv):
    before = scrape(srv)
    fid = make_flow(srv)
    objs = allocate(srv, fid, 4)
    for o in objs:
        upload(srv, o)
    post(srv, fid, [{"object_id": o["object_id"], "timerange": tr(i, i + 1)}
                    for i, o in enumerate(objs)])
    # More than delete-sync-limit segments: a deletion request, one segment per batch.
    r = srv.delete(f"/flows/{fid}/segments")
    assert r.status_code == 202, r.text
    wait_for(srv, "tams_deletion_batches_total",
             lambda v: v >= before["tams_deletion_batches_total"] + 4)
    wait_for(srv, "tams_deletion_requests_pending", lambda v: v == 0)
    wait_for(srv, "tams_gc_objects_collected_total",
             lambda v: v >= before["tams_gc_objects_collected_total"] + 4)
    wait_for(srv, "tams_gc_media_deleted_total",
             lambda v: v >= before["tams_gc_media_deleted_total"] + 4)
    m = scrape(srv)
    assert m["tams_gc_rounds_total"] > before["tams_gc_rounds_total"]
    assert m["tams_gc_errors_total"] == 0
    assert m["tams_gc_media_delete_failures_total"] == 0
    assert m["tams_deletion_errors_total"] == 0


def test_store_pool(tmp_path):
    """PostgreSQL: the pool's connections, all idle between requests; SQLite has no pool."""
    s = Server(tmp_path, args=["--db-pool-size", "3"])
    s.start()
    try:
        m = scrape(s)
        if not ON_PG:
            assert not [k for k in m if k.startswith("tams_store_pool")]
            return
        assert m['tams_store_pool_connections{state="in_use"}'] + \
            m['tams_store_pool_connections{state="idle"}'] == 3
        # The jobs' first rounds at start may hold some; then all go back.
        wait_for(s, 'tams_store_pool_connections{state="idle"}', lambda v: v == 3)
        assert m["tams_store_pool_waiting"] == 0
        assert m["tams_store_pool_wait_timeouts_total"] == 0
    finally:
        s.stop()
