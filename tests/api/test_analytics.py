# SPDX-License-Identifier: Apache-2.0
"""The analytics extension (docs/analytics.md): GET /analytics, /analytics/flows/{id},
/analytics/flows/{id}/gaps (paged), /analytics/sources/{id}, /analytics/storage and
/analytics/ingest, with 404s, 400s and scopes. The store contract test
(tests/unit/test_store_analytics.c) checks the aggregates against a recount on both back ends;
here the routes and what they print."""
import datetime
import urllib.parse
import uuid

import pytest

from conftest import check_error
from test_auth import start_auth_server, video_flow

EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def new_id():
    return str(uuid.uuid4())


def make_flow(srv, sid=None, **kw):
    doc = video_flow(sid=sid)
    r = srv.put(f"/flows/{doc['id']}", json=doc, **kw)
    assert r.status_code == 201, r.text
    return doc


def add(srv, fid, ranges, obj=None, **kw):
    segs = [{"object_id": obj or new_id(), "timerange": tr, "get_urls": EXT} for tr in ranges]
    r = srv.post(f"/flows/{fid}/segments", json=segs, **kw)
    assert r.status_code == 201, r.text


def tr(a, b):
    return f"[{a}:0_{b}:0)"


def test_flow_summary_and_gaps(server):
    doc = make_flow(server)
    fid = doc["id"]
    r = server.get(f"/analytics/flows/{fid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"flow_id": fid, "segment_count": 0, "timerange": "()",
                    "covered_duration": "0:0", "gap_duration": "0:0", "object_count": 0,
                    "unsized_object_count": 0, "stored_bytes": 0}
    # 0-10 10-20 | 30-40 | 50-60 70-80: gaps 20-30, 40-50, 60-70
    add(server, fid, [tr(0, 10), tr(10, 20), tr(30, 40), tr(50, 60), tr(70, 80)])
    body = server.get(f"/analytics/flows/{fid}").json()
    assert body["segment_count"] == 5
    assert body["timerange"] == "[0:0_80:0)"
    assert body["covered_duration"] == "50:0"
    assert body["gap_duration"] == "30:0"
    assert body["object_count"] == 5 and body["unsized_object_count"] == 5
    r = server.get(f"/analytics/flows/{fid}/gaps")
    assert r.status_code == 200, r.text
    assert r.json() == [{"timerange": "[20:0_30:0)", "duration": "10:0"},
                        {"timerange": "[40:0_50:0)", "duration": "10:0"},
                        {"timerange": "[60:0_70:0)", "duration": "10:0"}]
    assert "X-Paging-NextKey" not in r.headers
    # Filling one gap and splitting another.
    add(server, fid, [tr(20, 30), tr(44, 46)])
    gaps = [g["timerange"] for g in server.get(f"/analytics/flows/{fid}/gaps").json()]
    assert gaps == ["[40:0_44:0)", "[46:0_50:0)", "[60:0_70:0)"]
    # Deleting segments joins gaps.
    r = server.delete(f"/flows/{fid}/segments", params={"timerange": "[44:0_60:0)"})
    assert r.status_code in (200, 202, 204), r.text
    gaps = [g["timerange"] for g in server.get(f"/analytics/flows/{fid}/gaps").json()]
    assert gaps == ["[40:0_70:0)"]
    body = server.get(f"/analytics/flows/{fid}").json()
    assert body["segment_count"] == 5 and body["gap_duration"] == "30:0"


def test_gaps_paging(server):
    fid = make_flow(server)["id"]
    add(server, fid, [tr(2 * i, 2 * i + 1) for i in range(7)])  # six gaps
    seen, url, pages = [], f"/analytics/flows/{fid}/gaps?limit=4", 0
    while url:
        r = server.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["X-Paging-Limit"] == "4"
        seen += [g["timerange"] for g in r.json()]
        pages += 1
        key = r.headers.get("X-Paging-NextKey")
        if key:
            assert 'rel="next"' in r.headers["Link"]
            link = r.headers["Link"].split(";")[0].strip("<>")
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["page"] == [key]
            url = f"/analytics/flows/{fid}/gaps?limit=4&page={urllib.parse.quote(key)}"
        else:
            url = None
    assert pages == 2
    assert seen == [f"[{2 * i + 1}:0_{2 * i + 2}:0)" for i in range(6)]
    check_error(server.get(f"/analytics/flows/{fid}/gaps", params={"page": "forged"}), 400)
    check_error(server.get(f"/analytics/flows/{fid}/gaps", params={"limit": "0"}), 400)
    # A cursor of another listing is refused.
    other = make_flow(server)["id"]
    add(server, other, [tr(i, i + 1) for i in range(3)])
    r = server.get(f"/flows/{other}/segments", params={"limit": 1})
    check_error(server.get(f"/analytics/flows/{fid}/gaps",
                           params={"page": r.headers["X-Paging-NextKey"]}), 400)


def test_source_service_and_storage(server):
    sid = new_id()
    a = make_flow(server, sid=sid)["id"]
    b = make_flow(server, sid=sid)["id"]
    add(server, a, [tr(0, 10), tr(10, 20)])
    add(server, b, [tr(100, 110)])
    r = server.get(f"/analytics/sources/{sid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source_id"] == sid and body["flow_count"] == 2
    assert body["segment_count"] == 3
    assert body["timerange"] == "[0:0_110:0)"
    assert body["covered_duration"] == "30:0"
    assert "gap_duration" not in body
    r = server.get("/analytics")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flow_count"] == 2 and body["segment_count"] == 3
    r = server.get("/analytics/storage")
    assert r.status_code == 200, r.text
    assert r.json() == [{"uncontrolled": True, "segment_count": 3, "stored_bytes": 0}]
    # A flow deleted leaves the totals.
    assert server.delete(f"/flows/{b}").status_code in (200, 202, 204)
    body = server.get("/analytics").json()
    assert body["flow_count"] == 1 and body["segment_count"] == 2


def test_stored_bytes_of_uploaded_objects(server):
    fid = make_flow(server)["id"]
    r = server.post(f"/flows/{fid}/storage", json={"limit": 2})
    assert r.status_code == 201, r.text
    objs = r.json()["media_objects"]
    for obj, size in zip(objs, (1000, 24)):
        put = obj["put_url"]
        r = server.session.put(put["url"], data=b"x" * size,
                               headers={"Content-Type": put["content-type"]}, timeout=30)
        assert r.status_code == 200, r.text
    segs = [{"object_id": objs[0]["object_id"], "timerange": tr(0, 10)},
            {"object_id": objs[0]["object_id"], "timerange": tr(10, 20)},
            {"object_id": objs[1]["object_id"], "timerange": tr(20, 30)}]
    r = server.post(f"/flows/{fid}/segments", json=segs)
    assert r.status_code == 201, r.text
    body = server.get(f"/analytics/flows/{fid}").json()
    assert body["stored_bytes"] == 1024
    assert body["object_count"] == 2 and body["unsized_object_count"] == 0
    storage = server.get("/analytics/storage").json()
    assert len(storage) == 1
    assert storage[0]["storage_id"] == server.get("/service/storage-backends").json()[0]["id"]
    assert storage[0]["segment_count"] == 3 and storage[0]["stored_bytes"] == 1024
    ingest = server.get("/analytics/ingest", params={"flow_id": fid}).json()
    assert sum(m["stored_bytes"] for m in ingest["minutes"]) == 1024


def test_ingest(server):
    a = make_flow(server)["id"]
    b = make_flow(server)["id"]
    add(server, a, [tr(i, i + 1) for i in range(5)])
    add(server, b, [tr(i, i + 1) for i in range(2)])
    r = server.get("/analytics/ingest", params={"flow_id": a})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flow_id"] == a
    assert 1 <= len(body["minutes"]) <= 2
    assert sum(m["segment_count"] for m in body["minutes"]) == 5
    now = datetime.datetime.now(datetime.timezone.utc)
    for m in body["minutes"]:
        t = datetime.datetime.fromisoformat(m["minute"].replace("Z", "+00:00"))
        assert t.second == 0 and abs((now - t).total_seconds()) < 180
    start = datetime.datetime.fromisoformat(body["from"].replace("Z", "+00:00"))
    assert 1438 * 60 <= (now - start).total_seconds() <= 1441 * 60
    body = server.get("/analytics/ingest").json()
    assert "flow_id" not in body
    assert sum(m["segment_count"] for m in body["minutes"]) == 7
    body = server.get("/analytics/ingest", params={"minutes": "1"}).json()
    start = datetime.datetime.fromisoformat(body["from"].replace("Z", "+00:00"))
    assert (now - start).total_seconds() < 120


@pytest.mark.parametrize("path", ["/analytics/flows/{id}", "/analytics/flows/{id}/gaps",
                                  "/analytics/sources/{id}"])
def test_unknown_ids_are_404(server, path):
    check_error(server.get(path.format(id=new_id())), 404)
    check_error(server.get(path.format(id="not-a-uuid")), 404)
    check_error(server.get("/analytics/ingest", params={"flow_id": new_id()}), 404)


@pytest.mark.parametrize("path,params", [
    ("/analytics", {"x": "1"}),
    ("/analytics/storage", {"limit": "3"}),
    ("/analytics/ingest", {"flow_id": "nope"}),
    ("/analytics/ingest", {"minutes": "0"}),
    ("/analytics/ingest", {"minutes": "1441"}),
    ("/analytics/ingest", {"minutes": "ten"}),
    ("/analytics/ingest", {"since": "1"}),
])
def test_bad_queries_are_400(server, path, params):
    check_error(server.get(path, params=params), 400)


def test_deleted_flow_is_404(server):
    fid = make_flow(server)["id"]
    add(server, fid, [tr(0, 1)])
    assert server.delete(f"/flows/{fid}").status_code in (200, 202, 204)
    check_error(server.get(f"/analytics/flows/{fid}"), 404)
    check_error(server.get(f"/analytics/flows/{fid}/gaps"), 404)


def test_methods_other_than_get(server):
    r = server.post("/analytics", json={})
    assert r.status_code == 405, r.text
    assert "GET" in r.headers.get("Allow", "")


def test_scopes(tmp_path):
    srv, creds = start_auth_server(tmp_path)
    try:
        admin = creds.request_kw("bearer", "admin")
        doc = make_flow(srv, **admin)
        paths = ["/analytics", f"/analytics/flows/{doc['id']}",
                 f"/analytics/flows/{doc['id']}/gaps", f"/analytics/sources/{doc['source_id']}",
                 "/analytics/storage", "/analytics/ingest"]
        for p in paths:
            check_error(srv.get(p), 401)
            assert srv.get(p, **creds.request_kw("bearer", "read")).status_code == 200, p
            check_error(srv.get(p, **creds.request_kw("bearer", "write")), 403)
    finally:
        srv.stop()
