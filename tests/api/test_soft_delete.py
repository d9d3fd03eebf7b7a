# SPDX-License-Identifier: Apache-2.0
"""Soft delete (docs/soft-delete.md): with soft_delete_retention a deleted flow, source or
segment range vanishes from every read path at once, is kept in the trash, and comes back
exactly on restore; 409s, purge, expiry, scopes, and nothing changes with retention off."""
import time
import uuid

import pytest

from conftest import Server, VIDEO_RATE, check_error, db_scalar
from test_auth import start_auth_server
from test_deletion import (EXT, allocate, make_flow, new_id, object_path, post, tr, upload,
                           wait_done)

RETAIN = ["--soft-delete-retention", "3600", "--gc-interval", "1", "--gc-grace", "1"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("softdel"), args=RETAIN)
    s.start()
    yield s
    s.stop()


def get_json(srv, path, status=200):
    r = srv.get(path)
    assert r.status_code == status, (path, r.status_code, r.text)
    return r.json()


def fill(srv, fid, n=4, controlled=True, start=0):
    """n segments of 1 s from `start` with every optional member; controlled ones on uploaded
    objects; a hole after the second so the flow has a gap."""
    segs = []
    objs = allocate(srv, fid, n) if controlled else None
    for i in range(n):
        at = start + i + (1 if i >= 2 else 0)
        seg = {"timerange": tr(at, at + 1), "ts_offset": "0:5", "last_duration": "0:40000000",
               "sample_offset": i, "sample_count": 25, "key_frame_count": 1}
        if controlled:
            upload(srv, objs[i], b"media-%d" % i)
            seg["object_id"] = objs[i]["object_id"]
        else:
            seg["object_id"] = "ext-" + new_id()
            seg["get_urls"] = EXT
        segs.append(seg)
    post(srv, fid, segs)
    return objs if controlled else segs


def snapshot(srv, fid, sid):
    """Everything a client can read of a flow and its source."""
    return {
        "flow": get_json(srv, f"/flows/{fid}?include_timerange=true"),
        "tags": get_json(srv, f"/flows/{fid}/tags"),
        "segments": get_json(srv, f"/flows/{fid}/segments?limit=1000"),
        "segments_rev": get_json(srv, f"/flows/{fid}/segments?limit=1000&reverse_order=true"),
        "source": get_json(srv, f"/sources/{sid}"),
        "analytics": get_json(srv, f"/analytics/flows/{fid}"),
        "gaps": get_json(srv, f"/analytics/flows/{fid}/gaps"),
        "analytics_source": get_json(srv, f"/analytics/sources/{sid}"),
    }


def strip_signatures(segs):
    """Built-in store get_urls carry a signature with an expiry: compare the rest."""
    out = []
    for s in segs:
        s = dict(s)
        s["get_urls"] = [dict(u, url=u["url"].split("?")[0]) for u in s.get("get_urls", [])]
        out.append(s)
    return out


def same(a, b):
    for k in ("segments", "segments_rev"):
        a[k], b[k] = strip_signatures(a[k]), strip_signatures(b[k])
    assert a == b


def flow_ids(srv, query=""):
    ids, url = [], f"/flows?limit=1000{query}"
    r = srv.get(url)
    assert r.status_code == 200, r.text
    ids += [f["id"] for f in r.json()]
    return ids


def source_ids(srv, query=""):
    r = srv.get(f"/sources?limit=1000{query}")
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


def referenced_by(srv, oid, fid):
    """Whether GET /objects/{oid} names fid (an object no flow references is a 404)."""
    r = srv.get(f"/objects/{oid}")
    if r.status_code == 404:
        return False
    assert r.status_code == 200, r.text
    return fid in r.json().get("referenced_by_flows", [])


def trash(srv):
    """Every entry, page by page."""
    out, url = [], "/trash?limit=1000"
    while url:
        r = srv.get(url)
        assert r.status_code == 200, r.text
        out += r.json()
        nxt = r.links.get("next", {}).get("url")
        url = nxt[nxt.index("/trash"):] if nxt else None
    return out


def entry_of(srv, fid, kind):
    found = [e for e in trash(srv) if e["flow_id"] == fid and e["kind"] == kind]
    assert len(found) == 1, trash(srv)
    return found[0]


def restore(srv, eid, status=204):
    r = srv.post(f"/trash/{eid}/restore")
    if status >= 400:
        return check_error(r, status)
    assert r.status_code == status, r.text
    return r


def tagged_flow(srv):
    sid, tag = new_id(), "t" + uuid.uuid4().hex[:8]
    label = "softdel-" + tag
    fid = make_flow(srv, source_id=sid, label=label, tags={tag: "v"})
    r = srv.put(f"/sources/{sid}/tags/{tag}", json="sv")
    assert r.status_code in (200, 201, 204), r.text
    return fid, sid, tag, label


# ---- a flow and its source -----------------------------------------------------------------------


def test_deleted_flow_leaks_nowhere_and_restores_exactly(srv):
    other = make_flow(srv)
    fill(srv, other, 2)
    fid, sid, tag, label = tagged_flow(srv)
    objs = fill(srv, fid)
    ext = fill(srv, fid, 2, controlled=False, start=20)
    before = snapshot(srv, fid, sid)
    totals = get_json(srv, "/analytics")
    storage = get_json(srv, "/analytics/storage")
    unknown = srv.get(f"/flows/{new_id()}/segments")

    r = srv.delete(f"/flows/{fid}")
    assert r.status_code == 204, r.text

    # Every read path: gets, lists, every filter, segments, objects, analytics.
    for path in (f"/flows/{fid}", f"/flows/{fid}/tags", f"/flows/{fid}/tags/{tag}",
                 f"/flows/{fid}/label", f"/sources/{sid}", f"/sources/{sid}/tags",
                 f"/analytics/flows/{fid}", f"/analytics/flows/{fid}/gaps"):
        check_error(srv.get(path), 404)
        assert srv.head(path).status_code == 404
    r = srv.get(f"/flows/{fid}/segments")
    assert (r.status_code, r.json()) == (unknown.status_code, unknown.json())
    assert fid not in flow_ids(srv)
    for q in (f"&source_id={sid}", f"&label={label}", f"&tag.{tag}=v", f"&tag_exists.{tag}=true",
              "&format=urn:x-nmos:format:video", "&codec=video/h264", "&frame_width=1920",
              "&timerange=[0:0_100:0)"):
        assert fid not in flow_ids(srv, q), q
    assert flow_ids(srv, f"&tag.{tag}=v") == []
    assert sid not in source_ids(srv)
    for q in (f"&tag.{tag}=sv", f"&tag_exists.{tag}=true", "&format=urn:x-nmos:format:video"):
        assert sid not in source_ids(srv, q), q
    for oid in [o["object_id"] for o in objs] + [s["object_id"] for s in ext]:
        assert not referenced_by(srv, oid, fid)
    after = get_json(srv, "/analytics")
    assert after["segment_count"] == totals["segment_count"] - 6, (totals, after)
    assert get_json(srv, "/analytics/storage") != storage

    # Kept: the media outlives the grace period while the entry lasts.
    entry = entry_of(srv, fid, "flow")
    assert entry["segments"] == 6 and entry["status"] == "kept" and entry["source_id"] == sid
    assert entry["timerange"] == before["flow"]["timerange"]
    assert get_json(srv, f"/trash/{entry['id']}") == entry
    time.sleep(3.5)
    assert all(object_path(srv, o).exists() for o in objs)

    restore(srv, entry["id"])
    same(snapshot(srv, fid, sid), before)
    assert get_json(srv, "/analytics") == totals
    assert get_json(srv, "/analytics/storage") == storage
    assert fid in flow_ids(srv, f"&tag.{tag}=v") and sid in source_ids(srv, f"&tag.{tag}=sv")
    for o in objs:
        assert fid in get_json(srv, f"/objects/{o['object_id']}")["referenced_by_flows"]
    check_error(srv.get(f"/trash/{entry['id']}"), 404)
    restore(srv, entry["id"], 404)


def test_source_with_other_flows_stays_and_restore_keeps_it(srv):
    sid = new_id()
    keep = make_flow(srv, source_id=sid)
    fid = make_flow(srv, source_id=sid)
    fill(srv, fid, 2, controlled=False)
    before = snapshot(srv, fid, sid)
    assert srv.delete(f"/flows/{fid}").status_code == 204
    assert get_json(srv, f"/sources/{sid}")["id"] == sid
    assert fid not in flow_ids(srv, f"&source_id={sid}") and keep in flow_ids(srv, f"&source_id={sid}")
    restore(srv, entry_of(srv, fid, "flow")["id"])
    same(snapshot(srv, fid, sid), before)


# ---- a segment range -----------------------------------------------------------------------------


def test_deleted_range_leaks_nowhere_and_restores_exactly(srv):
    fid, sid, _, _ = tagged_flow(srv)
    objs = fill(srv, fid, 6)
    before = snapshot(srv, fid, sid)
    r = srv.delete(f"/flows/{fid}/segments?timerange=[1:0_4:0)")
    assert r.status_code == 204, r.text
    left = [s["timerange"] for s in get_json(srv, f"/flows/{fid}/segments")]
    assert left == ["[0:0_1:0)", "[4:0_5:0)", "[5:0_6:0)", "[6:0_7:0)"], left
    assert get_json(srv, f"/flows/{fid}/segments?timerange=[1:0_4:0)") == []
    assert get_json(srv, f"/flows/{fid}/segments?object_id={objs[1]['object_id']}") == []
    assert not referenced_by(srv, objs[1]["object_id"], fid)
    assert get_json(srv, f"/analytics/flows/{fid}")["segment_count"] == 4
    entry = entry_of(srv, fid, "segments")
    assert entry["segments"] == 2 and entry["timerange"] == "[1:0_4:0)"
    restore(srv, entry["id"])
    after = snapshot(srv, fid, sid)
    # A restore is a segment write: segments_updated moves, as for any registration.
    for s in (after, before):
        s["flow"].pop("segments_updated", None)
    same(after, before)


def test_restore_refused_when_overlapped_or_recreated(srv):
    fid = make_flow(srv)
    fill(srv, fid, 3, controlled=False)
    assert srv.delete(f"/flows/{fid}/segments?timerange=[0:0_1:0)").status_code == 204
    eid = entry_of(srv, fid, "segments")["id"]
    post(srv, fid, {"object_id": "ext-" + new_id(), "get_urls": EXT, "timerange": "[0:500000000_0:900000000)"})
    segs = get_json(srv, f"/flows/{fid}/segments")
    body = restore(srv, eid, 409)
    assert "overlap" in body["summary"] or "cannot be put back" in body["summary"], body
    assert get_json(srv, f"/flows/{fid}/segments") == segs
    assert get_json(srv, f"/trash/{eid}")["id"] == eid

    fid2 = make_flow(srv)
    assert srv.delete(f"/flows/{fid2}").status_code == 204
    eid2 = entry_of(srv, fid2, "flow")["id"]
    make_flow(srv, fid=fid2)
    body = restore(srv, eid2, 409)
    assert fid2 in body["summary"]
    # The segment entry of a flow deleted since cannot come back either.
    assert srv.delete(f"/flows/{fid}").status_code == 204
    restore(srv, eid, 409)


def test_purge_forgets_and_lets_the_collector_take_the_media(srv):
    fid = make_flow(srv)
    objs = fill(srv, fid, 2)
    assert srv.delete(f"/flows/{fid}").status_code == 204
    eid = entry_of(srv, fid, "flow")["id"]
    r = srv.delete(f"/trash/{eid}")
    assert r.status_code == 204, r.text
    check_error(srv.get(f"/trash/{eid}"), 404)
    check_error(srv.delete(f"/trash/{eid}"), 404)
    deadline = time.time() + 15
    while any(object_path(srv, o).exists() for o in objs):
        assert time.time() < deadline
        time.sleep(0.2)
    check_error(srv.get(f"/flows/{fid}"), 404)


# ---- deletion requests, expiry, off, scopes --------------------------------------------------------


def test_deferred_flow_deletion_fills_the_entry(tmp_path):
    s = Server(tmp_path, args=RETAIN + ["--delete-sync-limit", "2", "--delete-batch", "2"])
    s.start()
    try:
        fid = make_flow(s)
        sid = get_json(s, f"/flows/{fid}")["source_id"]
        fill(s, fid, 5)
        before = snapshot(s, fid, sid)
        r = s.delete(f"/flows/{fid}")
        assert r.status_code == 202, r.text
        wait_done(s, r.headers["Location"])
        entry = entry_of(s, fid, "flow")
        assert entry["status"] == "kept" and entry["segments"] == 5
        restore(s, entry["id"])
        same(snapshot(s, fid, sid), before)
    finally:
        s.stop()


def test_expired_entry_is_collected(tmp_path):
    s = Server(tmp_path, args=["--soft-delete-retention", "2", "--gc-interval", "1",
                               "--gc-grace", "0"])
    s.start()
    try:
        fid = make_flow(s)
        objs = fill(s, fid, 2)
        assert s.delete(f"/flows/{fid}").status_code == 204
        eid = entry_of(s, fid, "flow")["id"]
        deadline = time.time() + 20
        while s.get(f"/trash/{eid}").status_code == 200 or \
                any(object_path(s, o).exists() for o in objs):
            assert time.time() < deadline
            time.sleep(0.2)
        assert db_scalar(s.data_dir, "SELECT count(*) FROM bin_segments") == 0
        assert db_scalar(s.data_dir, "SELECT count(*) FROM bin_flows") == 0
    finally:
        s.stop()


def test_retention_off_deletes_at_once(tmp_path):
    s = Server(tmp_path, args=["--gc-interval", "1", "--gc-grace", "0"])
    s.start()
    try:
        fid = make_flow(s)
        objs = fill(s, fid, 2)
        assert s.delete(f"/flows/{fid}").status_code == 204
        assert get_json(s, "/trash") == []
        assert db_scalar(s.data_dir, "SELECT count(*) FROM bin") == 0
        deadline = time.time() + 15
        while any(object_path(s, o).exists() for o in objs):
            assert time.time() < deadline
            time.sleep(0.2)
    finally:
        s.stop()


def test_trash_needs_admin(tmp_path):
    s, creds = start_auth_server(tmp_path, args=RETAIN + ["--auth-fail-limit", "0"])
    try:
        admin = creds.request_kw("bearer", "admin")
        fid = make_flow_as(s, admin)
        assert s.delete(f"/flows/{fid}", **admin).status_code == 204
        r = s.get("/trash", **admin)
        assert r.status_code == 200, r.text
        eid = r.json()[0]["id"]
        for who in ("read", "write", "delete"):
            kw = creds.request_kw("bearer", who)
            for method, path in (("GET", "/trash"), ("GET", f"/trash/{eid}"),
                                 ("POST", f"/trash/{eid}/restore"), ("DELETE", f"/trash/{eid}")):
                check_error(s.request(method, path, **kw), 403)
        assert s.get(f"/trash/{eid}", **admin).status_code == 200
        assert s.post(f"/trash/{eid}/restore", **admin).status_code == 204
        assert s.get(f"/flows/{fid}", **admin).status_code == 200
    finally:
        s.stop()


def make_flow_as(srv, kw):
    fid = new_id()
    doc = {"id": fid, "source_id": new_id(), "format": "urn:x-nmos:format:video",
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    r = srv.put(f"/flows/{fid}", json=doc, **kw)
    assert r.status_code == 201, r.text
    return fid


def test_webhook_events_of_deletion_and_restore(tmp_path):
    from test_webhooks import ALLOW, EVENTS, Receiver, validate_event
    s = Server(tmp_path, args=RETAIN + ALLOW)
    s.start()
    rec = Receiver()
    try:
        r = s.post("/service/webhooks", json={"url": rec.url("/sd"), "api_key_name": "X-Api-Key",
                                              "api_key_value": "k", "events": EVENTS})
        assert r.status_code == 201, r.text
        fid, sid, _, _ = tagged_flow(s)
        segs = fill(s, fid, 2, controlled=False)
        rec.wait(4, "/sd")  # sources/created, flows/created, sources/updated, added
        doc = get_json(s, f"/flows/{fid}")
        assert s.delete(f"/flows/{fid}").status_code == 204
        rec.wait(6, "/sd")
        restore(s, entry_of(s, fid, "flow")["id"])
        got = rec.wait(9, "/sd")
        time.sleep(0.5)
        got = rec.events("/sd")
        for e in got:
            validate_event(e)
        types = [e["event_type"] for e in got[4:]]
        assert types == ["flows/deleted", "sources/deleted", "sources/created", "flows/created",
                         "flows/segments_added"], types
        again = {e["event_type"]: e["event"] for e in got[6:]}
        assert again["flows/created"]["flow"] == doc
        assert again["sources/created"]["source"]["id"] == sid
        assert [x["timerange"] for x in again["flows/segments_added"]["segments"]] == \
            [x["timerange"] for x in segs]
    finally:
        rec.close()
        s.stop()


# ---- memberships and paging ----------------------------------------------------------------------


def test_restored_flow_rejoins_the_collections_that_held_it(srv):
    member, other = make_flow(srv), make_flow(srv)
    keep = make_flow(srv, flow_collection=[{"id": member, "role": "left"},
                                           {"id": other, "role": "right"}])
    gone = make_flow(srv, flow_collection=[{"id": member, "role": "solo"}])
    r = srv.delete(f"/flows/{member}")
    assert r.status_code == 204, r.text
    assert get_json(srv, f"/flows/{keep}")["flow_collection"] == [{"id": other, "role": "right"}]
    assert "flow_collection" not in get_json(srv, f"/flows/{gone}")
    # A collector deleted meanwhile is left out; the others take the flow back with its role.
    r = srv.delete(f"/flows/{gone}")
    assert r.status_code == 204, r.text
    restore(srv, entry_of(srv, member, "flow")["id"])
    assert get_json(srv, f"/flows/{keep}")["flow_collection"] == [
        {"id": other, "role": "right"}, {"id": member, "role": "left"}]
    assert get_json(srv, f"/flows/{member}").get("collected_by") == [keep]
    # The document and the rows agree: deleting the member again empties the collection.
    r = srv.delete(f"/flows/{other}")
    assert r.status_code == 204, r.text
    r = srv.delete(f"/flows/{member}")
    assert r.status_code == 204, r.text
    assert "flow_collection" not in get_json(srv, f"/flows/{keep}")


def test_trash_is_paged(tmp_path):
    s = Server(tmp_path, args=RETAIN)
    s.start()
    try:
        for _ in range(5):
            r = s.delete(f"/flows/{make_flow(s)}")
            assert r.status_code == 204, r.text
        whole = get_json(s, "/trash")
        assert len(whole) == 5
        assert [(e["deleted"], e["id"]) for e in whole] == sorted(
            (e["deleted"], e["id"]) for e in whole)
        seen, url, sizes = [], "/trash?limit=2", []
        while url:
            r = s.get(url)
            assert r.status_code == 200, r.text
            assert r.headers["X-Paging-Limit"] == "2"
            seen += r.json()
            sizes.append(len(r.json()))
            nxt = r.links.get("next", {}).get("url")
            if nxt:
                assert "limit=2" in nxt and r.headers["X-Paging-NextKey"] in nxt
            url = nxt[nxt.index("/trash"):] if nxt else None
        assert sizes == [2, 2, 1]
        assert seen == whole
        check_error(s.get("/trash?page=bm90LWEta2V5"), 400)
        check_error(s.get("/trash?limit=0"), 400)
        check_error(s.get("/trash?colour=red"), 400)
    finally:
        s.stop()
