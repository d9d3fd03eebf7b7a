# SPDX-License-Identifier: Apache-2.0
"""The flow cache answers GET /flows/{id} from memory, and never with a stale document."""
import re
import uuid

from conftest import validate


def flow_body(fid, sid, label):
    return {"id": fid, "source_id": sid, "format": "urn:x-nmos:format:data",
            "codec": "text/plain", "container": "text/plain", "essence_parameters": {},
            "label": label}


def cache_counts(server):
    text = server.get("/metrics").text
    hits = int(re.search(r'tams_flow_cache_requests_total\{result="hit"\} (\d+)', text).group(1))
    misses = int(re.search(r'tams_flow_cache_requests_total\{result="miss"\} (\d+)',
                           text).group(1))
    return hits, misses


def test_hits_and_no_stale_reads(server):
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
        "object_id": "ext-1", "timerange": "[0:0_1:0)", "get_urls": [{"url": "http://x/1"}]})
    assert r.status_code == 201
    assert "segments_updated" in server.get(f"/flows/{fid}").json()
    assert server.delete(f"/flows/{other}").status_code == 204
    assert "collected_by" not in server.get(f"/flows/{fid}").json()
    assert server.delete(f"/flows/{fid}").status_code == 204
    assert server.get(f"/flows/{fid}").status_code == 404


def test_cache_off(make_server):
    srv = make_server(args=["--flow-cache-entries", "0"])
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert srv.put(f"/flows/{fid}", json=flow_body(fid, sid, "x")).status_code == 201
    for _ in range(3):
        assert srv.get(f"/flows/{fid}").json()["label"] == "x"
    assert cache_counts(srv) == (0, 0)
