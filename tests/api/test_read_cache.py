# SPDX-License-Identifier: Apache-2.0
"""The read caches answer GET /flows/{id} and GET /sources/{id} from memory, never with a stale
document, for at most cache_ttl, with hit and miss counts in /metrics."""
import re
import time
import uuid

import pytest

from conftest import ON_PG, psql, validate


def flow_body(fid, sid, label):
    return {"id": fid, "source_id": sid, "format": "urn:x-nmos:format:data",
            "codec": "text/plain", "container": "text/plain", "essence_parameters": {},
            "label": label}


def cache_counts(server, cache="flow"):
    text = server.get("/metrics").text
    hits = int(re.search(rf'tams_{cache}_cache_requests_total\{{result="hit"\}} (\d+)',
                         text).group(1))
    misses = int(re.search(rf'tams_{cache}_cache_requests_total\{{result="miss"\}} (\d+)',
                           text).group(1))
    return hits, misses


def wait_trusted(server, timeout=10):
    """On PostgreSQL an instance trusts its caches only after its first lease renewals (about
    1.5 s after start); wait until a repeated read is a hit."""
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert server.put(f"/flows/{fid}", json=flow_body(fid, sid, "probe")).status_code == 201
    deadline = time.time() + timeout
    while time.time() < deadline:
        h0, _ = cache_counts(server)
        server.get(f"/flows/{fid}")
        server.get(f"/flows/{fid}")
        if cache_counts(server)[0] > h0:
            return
        time.sleep(0.1)
    raise AssertionError("the flow cache never answered")


def test_hits_and_no_stale_reads(server):
    wait_trusted(server)
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert server.put(f"/flows/{fid}", json=flow_body(fid, sid, "one")).status_code == 201
    h0, m0 = cache_counts(server)
    first = server.get(f"/flows/{fid}").json()
    for _ in range(5):
        assert server.get(f"/flows/{fid}").json() == first
    h1, m1 = cache_counts(server)
    assert m1 - m0 == 1 and h1 - h0 == 5
    validate(first, "flow.json")
    # Every kind of write is seen at once: property, replace, another flow's collection,
    # segments (segments_updated), deletion.
    assert server.put(f"/flows/{fid}/label", json="two").status_code == 204
    assert server.get(f"/flows/{fid}").json()["label"] == "two"
    assert server.put(f"/flows/{fid}", json=flow_body(fid, sid, "three")).status_code == 204
    assert server.get(f"/flows/{fid}").json()["label"] == "three"
    other = str(uuid.uuid4())
    body = flow_body(other, str(uuid.uuid4()), "collector")
    body["flow_collection"] = [{"id": fid, "role": "member"}]
    assert server.put(f"/flows/{other}", json=body).status_code == 201
    assert server.get(f"/flows/{fid}").json()["collected_by"] == [other]
    r = server.post(f"/flows/{fid}/segments", json={
        "object_id": "ext-1", "timerange": "[0:0_1:0)",
        "get_urls": [{"url": "http://x/1", "label": "x"}]})
    assert r.status_code == 201
    assert "segments_updated" in server.get(f"/flows/{fid}").json()
    assert server.delete(f"/flows/{other}").status_code == 204
    assert "collected_by" not in server.get(f"/flows/{fid}").json()
    assert server.delete(f"/flows/{fid}").status_code == 204
    assert server.get(f"/flows/{fid}").status_code == 404


def segment_writes_keep_other_flows_cached(writer, reader):
    """Registering segments on one flow changes that flow's document (segments_updated) and no
    other's: the reader answers the written flow anew at once and keeps the others cached.
    Storage allocation changes no document and evicts nothing."""
    live, other = str(uuid.uuid4()), str(uuid.uuid4())
    for fid in (live, other):
        body = flow_body(fid, str(uuid.uuid4()), "l")
        assert writer.put(f"/flows/{fid}", json=body).status_code == 201
    for _ in range(2):
        reader.get(f"/flows/{live}")
        reader.get(f"/flows/{other}")
    assert "segments_updated" not in reader.get(f"/flows/{live}").json()
    for i in range(5):
        h0, m0 = cache_counts(reader)
        r = writer.post(f"/flows/{live}/storage", json={"limit": 1})
        assert r.status_code == 201, r.text
        assert reader.get(f"/flows/{other}").status_code == 200
        assert reader.get(f"/flows/{live}").status_code == 200
        h1, m1 = cache_counts(reader)
        assert (h1 - h0, m1 - m0) == (2, 0), "allocation evicted a flow"
        r = writer.post(f"/flows/{live}/segments", json={
            "object_id": f"ext-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
            "get_urls": [{"url": f"http://x/{i}", "label": "x"}]})
        assert r.status_code == 201, r.text
        doc = reader.get(f"/flows/{live}").json()
        assert "segments_updated" in doc
        assert doc == writer.get(f"/flows/{live}").json()
        h2, m2 = cache_counts(reader)
        assert reader.get(f"/flows/{other}").status_code == 200
        h3, m3 = cache_counts(reader)
        assert (h3 - h2, m3 - m2) == (1, 0), "a segment write evicted another flow"
        assert m2 - m1 >= 1, "the written flow was answered from the cache"


def test_segment_writes_evict_their_flow_only(make_server):
    server = make_server()  # its own: no other test's background work writes meanwhile
    wait_trusted(server)
    segment_writes_keep_other_flows_cached(server, server)


@pytest.mark.skipif(not ON_PG, reason="about PostgreSQL's notifications")
def test_writes_to_another_store_in_the_database_evict_nothing(make_server):
    """Two stores in one PostgreSQL database, each in a schema of its own (as the harness runs
    every server): PostgreSQL's notifications reach every session of the database, yet one
    store's writes leave the other's caches alone, store-wide writes (a flow made) included."""
    mine, other = make_server(), make_server()
    wait_trusted(mine)
    wait_trusted(other)
    fid = str(uuid.uuid4())
    r = mine.put(f"/flows/{fid}", json=flow_body(fid, str(uuid.uuid4()), "kept"))
    assert r.status_code == 201, r.text
    mine.get(f"/flows/{fid}")
    for i in range(5):
        ofid = str(uuid.uuid4())
        r = other.put(f"/flows/{ofid}", json=flow_body(ofid, str(uuid.uuid4()), "o"))
        assert r.status_code == 201, r.text
        assert other.put(f"/flows/{ofid}/label", json=f"o{i}").status_code == 204
        time.sleep(0.2)  # the notifications have reached mine by now
        h0, m0 = cache_counts(mine)
        assert mine.get(f"/flows/{fid}").json()["label"] == "kept"
        h1, m1 = cache_counts(mine)
        assert (h1 - h0, m1 - m0) == (1, 0), f"round {i}: another store's write evicted a flow"
    # Its own writes still evict, of course.
    assert mine.put(f"/flows/{fid}/label", json="changed").status_code == 204
    assert mine.get(f"/flows/{fid}").json()["label"] == "changed"


@pytest.mark.skipif(not ON_PG, reason="about PostgreSQL's notifications")
def test_write_notifications_are_read_for_their_store(make_server):
    """The payloads themselves, sent with psql as another writer would: another store's tag is
    passed over; no tag (an older release) or a tag that cannot be read counts for this store,
    to be safe, and so does a scoped write of this flow with a tag."""
    srv = make_server()
    wait_trusted(srv)
    fid = str(uuid.uuid4())
    r = srv.put(f"/flows/{fid}", json=flow_body(fid, str(uuid.uuid4()), "l"))
    assert r.status_code == 201, r.text
    srv.get(f"/flows/{fid}")
    writer = str(uuid.uuid4())
    for payload, evicts in ((f"{writer}@0123456789abcdef", False),
                            (f"{writer}@0123456789abcdef {fid}", False),
                            (writer, True),
                            (f"{writer} {fid}", True),
                            (f"{writer}@zz", True)):
        psql(f"NOTIFY tams_generation, '{payload}'")
        time.sleep(0.2)  # heard by now
        h0, m0 = cache_counts(srv)
        srv.get(f"/flows/{fid}")
        h1, m1 = cache_counts(srv)
        assert (h1 - h0, m1 - m0) == ((0, 1) if evicts else (1, 0)), payload
        srv.get(f"/flows/{fid}")  # cached again for the next payload


def test_sources_hits_and_no_stale_reads(server):
    wait_trusted(server)
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert server.put(f"/flows/{fid}", json=flow_body(fid, sid, "f")).status_code == 201
    h0, m0 = cache_counts(server, "source")
    first = server.get(f"/sources/{sid}").json()
    for _ in range(4):
        assert server.get(f"/sources/{sid}").json() == first
    h1, m1 = cache_counts(server, "source")
    assert m1 - m0 == 1 and h1 - h0 == 4
    validate(first, "source.json")
    # Property writes, tags, a collecting flow, and the source going with its last flow.
    assert server.put(f"/sources/{sid}/label", json="renamed").status_code == 204
    assert server.get(f"/sources/{sid}").json()["label"] == "renamed"
    assert server.put(f"/sources/{sid}/tags/genre", json="news").status_code == 204
    assert server.get(f"/sources/{sid}").json()["tags"] == {"genre": "news"}
    multi, msid = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"id": multi, "source_id": msid, "format": "urn:x-nmos:format:multi",
            "container": "video/mp2t", "flow_collection": [{"id": fid, "role": "video"}]}
    assert server.put(f"/flows/{multi}", json=body).status_code == 201
    assert server.get(f"/sources/{sid}").json().get("collected_by") == [msid]
    assert server.delete(f"/flows/{multi}").status_code == 204
    assert "collected_by" not in server.get(f"/sources/{sid}").json()
    assert server.delete(f"/flows/{fid}").status_code == 204
    assert server.get(f"/sources/{sid}").status_code == 404


def test_ttl_bounds_an_entry(make_server):
    srv = make_server(args=["--cache-ttl", "1"])
    wait_trusted(srv)
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert srv.put(f"/flows/{fid}", json=flow_body(fid, sid, "x")).status_code == 201
    srv.get(f"/flows/{fid}")
    h0, m0 = cache_counts(srv)
    srv.get(f"/flows/{fid}")
    assert cache_counts(srv) == (h0 + 1, m0)
    time.sleep(1.2)
    srv.get(f"/flows/{fid}")  # older than the TTL: read again from the store
    assert cache_counts(srv) == (h0 + 1, m0 + 1)


def test_cache_off(make_server):
    srv = make_server(args=["--flow-cache-memory", "0", "--source-cache-memory", "0"])
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert srv.put(f"/flows/{fid}", json=flow_body(fid, sid, "x")).status_code == 201
    for _ in range(3):
        assert srv.get(f"/flows/{fid}").json()["label"] == "x"
        assert srv.get(f"/sources/{sid}").status_code == 200
    assert cache_counts(srv) == (0, 0)
    assert cache_counts(srv, "source") == (0, 0)


def gauge(server, name):
    return float(re.search(rf"^{name} (\S+)$", server.get("/metrics").text, re.M).group(1))


def test_budget_and_gauges(make_server):
    """The flow cache keeps within its memory budget (flow_cache_memory), evicting as it must,
    and /metrics shows its hit ratio, entries and bytes."""
    srv = make_server(args=["--flow-cache-memory", "64k"])
    wait_trusted(srv)
    ids = [str(uuid.uuid4()) for _ in range(200)]
    for fid in ids:
        assert srv.put(f"/flows/{fid}", json=flow_body(fid, str(uuid.uuid4()), "x" * 500)
                       ).status_code == 201
    for fid in ids:  # one miss each (the writes above moved the generation), kept after
        assert srv.get(f"/flows/{fid}").status_code == 200
    entries, used = gauge(srv, "tams_flow_cache_entries"), gauge(srv, "tams_flow_cache_bytes")
    assert 0 < used <= 64 * 1024, used
    assert 10 < entries < 200, entries  # ~1 KiB documents: many fit, not all
    hits, misses = cache_counts(srv)
    assert abs(gauge(srv, "tams_flow_cache_hit_ratio") - hits / (hits + misses)) < 1e-6
    # The last documents read are cached, the first ones were evicted.
    h0, m0 = cache_counts(srv)
    srv.get(f"/flows/{ids[-1]}")
    srv.get(f"/flows/{ids[0]}")
    h1, m1 = cache_counts(srv)
    assert (h1 - h0, m1 - m0) == (1, 1)
