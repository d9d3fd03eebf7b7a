# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2's GET /flow-delete-requests (change 34): limit/page, sort_by (created, expiry),
reverse_order, against the 7.0 view of the same requests."""
import re
import time
import uuid

import pytest

from conftest import check_error

EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def make_requests(srv, n):
    """n flows of one segment each, deleted: with delete_sync_limit 0 each is a request."""
    ids = []
    for i in range(n):
        fid = str(uuid.uuid4())
        r = srv.put(f"/flows/{fid}", json={
            "id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video",
            "codec": "video/h264", "container": "video/mp2t",
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
        assert r.status_code == 201, r.text
        r = srv.post(f"/flows/{fid}/segments",
                     json={"object_id": f"o{i}", "timerange": "[0:0_1:0)", "get_urls": EXT})
        assert r.status_code == 201, r.text
        r = srv.delete(f"/flows/{fid}")
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    deadline = time.time() + 30
    while any(srv.get(f"/flow-delete-requests/{i}").json()["status"] != "done" for i in ids):
        assert time.time() < deadline
        time.sleep(0.05)
    return ids


@pytest.fixture
def dsrv(make_server):
    return make_server(args=["--delete-sync-limit", "0"])


def walk(view, params):
    """Every page from the first, following Link; returns the items and the page count."""
    items, pages = [], 0
    r = view.get("/flow-delete-requests", params=params)
    while True:
        assert r.status_code == 200, r.text
        for body in r.json():
            view.validate(body, "deletion-request.json")
        items += r.json()
        pages += 1
        m = re.match(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
        if not m:
            return items, pages
        assert m.group(1).startswith(view.api + "/flow-delete-requests?")
        r = view.session.get(m.group(1), timeout=30)


def test_82_sorted_and_paged(dsrv):
    ids = make_requests(dsrv, 5)
    v82, v70 = dsrv.at("8.2"), dsrv.at("7.0")
    # 7.0: oldest first, unpaged, as before
    r = v70.get("/flow-delete-requests")
    assert [d["id"] for d in r.json()] == ids
    assert "X-Paging-Limit" not in r.headers
    check_error(v70.get("/flow-delete-requests", params={"limit": "2"}), 400)
    # 8.2: most recent first by default
    r = v82.get("/flow-delete-requests")
    assert [d["id"] for d in r.json()] == ids[::-1]
    assert r.headers["X-Paging-Reverse-Order"] == "false"
    items, pages = walk(v82, {"limit": "2"})
    assert [d["id"] for d in items] == ids[::-1] and pages == 3
    items, pages = walk(v82, {"limit": "2", "reverse_order": "true"})
    assert [d["id"] for d in items] == ids and pages == 3
    by_expiry = sorted(items, key=lambda d: (d["expiry"], d["id"]))
    items, pages = walk(v82, {"limit": "3", "sort_by": "expiry"})
    assert items == by_expiry[::-1] and pages == 2
    items, _ = walk(v82, {"limit": "1", "sort_by": "expiry", "reverse_order": "true"})
    assert items == by_expiry


def test_82_page_key_survives_new_requests(dsrv):
    ids = make_requests(dsrv, 3)
    v82 = dsrv.at("8.2")
    r = v82.get("/flow-delete-requests", params={"limit": "2"})
    assert [d["id"] for d in r.json()] == [ids[2], ids[1]]
    nxt = r.headers["X-Paging-NextKey"]
    newer = make_requests(dsrv, 1)
    r = v82.get("/flow-delete-requests", params={"limit": "2", "page": nxt})
    assert [d["id"] for d in r.json()] == [ids[0]]
    assert newer[0] in [d["id"] for d in v82.get("/flow-delete-requests").json()]


@pytest.mark.parametrize("params", [{"sort_by": "updated"}, {"reverse_order": "yes"},
                                    {"limit": "0"}, {"page": "nonsense"}, {"page": "x,1"},
                                    {"tag.a": "b"}])
def test_82_bad_query(server, params):
    check_error(server.at("8.2").get("/flow-delete-requests", params=params), 400)
