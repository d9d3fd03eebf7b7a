"""Flows in TAMS 8.2 and their 7.0 view over one store (docs/tams-8.2-changes.md 14, 15, 17,
19, 20): vfr and the frame_rate rule, the status field and 7.0's flow_status tag, ordered
collections with optional roles, the 8.2 flow schemas and init_segments. Every 8.2 response is
validated against the 8.2 schemas, every 7.0 one against 7.0 (R3)."""
import json
import uuid

import pytest

from conftest import SPEC82, check_error

VIDEO = "urn:x-nmos:format:video"
MULTI = "urn:x-nmos:format:multi"
STATUSES = ["awaiting_content", "ingesting", "replication_in_progress", "closed_complete"]


def video(fid=None, **ep):
    params = {"frame_width": 1920, "frame_height": 1080}
    params.update(ep)
    return {"id": fid or str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": VIDEO,
            "codec": "video/h264", "container": "video/mp2t", "essence_parameters": params}


def rate(n=25):
    return {"numerator": n, "denominator": 1}


def put(view, doc, status=201):
    r = view.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == status, r.text
    if status == 201:
        view.validate(r.json(), "flow-get.json" if view.version == "8.2" else "flow.json")
    return r


def get(view, fid, path=""):
    r = view.get(f"/flows/{fid}{path}")
    assert r.status_code == 200, r.text
    if not path:
        view.validate(r.json(), "flow-get.json" if view.version == "8.2" else "flow.json")
    return r.json()


def refused(view, r, status=400):
    body = check_error(r, status)
    view.validate(body, "error.json")
    return body


# ---- 14: vfr and the frame_rate rule ------------------------------------------------------------

def test_82_fixed_rate_needs_frame_rate(v82):
    for ep in ({}, {"vfr": False}):
        doc = video(**ep)
        body = refused(v82, v82.put(f"/flows/{doc['id']}", json=doc))
        assert "frame_rate" in body["summary"]
        assert v82.get(f"/flows/{doc['id']}").status_code == 404
    doc = video(vfr=True, frame_rate=rate())
    body = refused(v82, v82.put(f"/flows/{doc['id']}", json=doc))
    assert "must not be set when vfr is true" in body["summary"]


def test_82_vfr_flow_seen_by_70_without_vfr(v82, v70):
    doc = put(v82, video(vfr=True)).json()
    assert doc["essence_parameters"]["vfr"] is True
    seen = get(v70, doc["id"])
    assert "vfr" not in seen["essence_parameters"] and "frame_rate" not in seen["essence_parameters"]
    fixed = put(v82, video(frame_rate=rate(50), vfr=False)).json()
    assert get(v70, fixed["id"])["essence_parameters"]["frame_rate"] == rate(50)


def test_70_flow_without_frame_rate_is_vfr_for_82(v82, v70, server):
    doc = video()
    put(v70, doc)
    assert get(v82, doc["id"])["essence_parameters"]["vfr"] is True
    assert "vfr" not in get(v70, doc["id"])["essence_parameters"]
    assert "vfr" not in server.get(f"/flows/{doc['id']}").json()["essence_parameters"]
    # 7.0 gives it a frame rate: fixed for 8.2 again.
    doc["essence_parameters"]["frame_rate"] = rate()
    put(v70, doc, 204)
    ep = get(v82, doc["id"])["essence_parameters"]
    assert "vfr" not in ep and ep["frame_rate"] == rate()
    # 7.0 still refuses vfr as it always did (essence_parameters is closed in 7.0).
    doc["essence_parameters"]["vfr"] = True
    refused(v70, v70.put(f"/flows/{doc['id']}", json=doc))


def test_70_property_write_on_vfr_flow_keeps_vfr(v82, v70):
    doc = put(v82, video(vfr=True)).json()
    assert v70.put(f"/flows/{doc['id']}/label", json="seen by 7.0").status_code == 204
    after = get(v82, doc["id"])
    assert after["essence_parameters"]["vfr"] is True and after["label"] == "seen by 7.0"


# ---- 15: status ----------------------------------------------------------------------------

def test_82_status_put_and_filter(v82, v70):
    ids = {}
    for s in STATUSES:
        doc = video(frame_rate=rate())
        doc["status"] = s
        ids[s] = put(v82, doc).json()["id"]
        assert get(v82, ids[s])["status"] == s
    plain = put(v82, video(frame_rate=rate())).json()["id"]
    for s in STATUSES:
        r = v82.get("/flows", params={"status": s})
        assert r.status_code == 200, r.text
        for f in r.json():
            v82.validate(f, "flow-get.json")
        assert [f["id"] for f in r.json()] == [ids[s]]
    assert plain not in [f["id"] for f in v82.get("/flows", params={"status": "ingesting"}).json()]
    refused(v82, v82.get("/flows", params={"status": "finished"}))
    # 7.0 does not know the parameter (as before 8.2).
    refused(v70, v70.get("/flows", params={"status": "ingesting"}))
    doc = video(frame_rate=rate())
    doc["status"] = "done"
    refused(v82, v82.put(f"/flows/{doc['id']}", json=doc))


def test_status_seen_by_70_as_tag(v82, v70):
    doc = video(frame_rate=rate())
    doc["status"] = "ingesting"
    doc["tags"] = {"a": "b"}
    fid = put(v82, doc).json()["id"]
    seen = get(v70, fid)
    assert "status" not in seen and seen["tags"] == {"a": "b", "flow_status": "ingesting"}
    assert get(v70, fid, "/tags") == {"a": "b", "flow_status": "ingesting"}
    assert get(v70, fid, "/tags/flow_status") == "ingesting"
    listed = [f for f in v70.get("/flows").json() if f["id"] == fid][0]
    v70.validate(listed, "flow.json")
    assert listed["tags"]["flow_status"] == "ingesting" and "status" not in listed
    # 8.2 does not see a tag.
    assert get(v82, fid, "/tags") == {"a": "b"}
    assert v82.get(f"/flows/{fid}/tags/flow_status").status_code == 404


def test_70_writes_status_through_the_tag(v82, v70):
    fid = put(v82, video(frame_rate=rate())).json()["id"]
    assert v70.put(f"/flows/{fid}/tags/flow_status", json="closed_complete").status_code == 204
    seen = get(v82, fid)
    assert seen["status"] == "closed_complete" and "flow_status" not in seen.get("tags", {})
    # A value outside the enum stays a plain tag (and wins in 7.0's view).
    assert v70.put(f"/flows/{fid}/tags/flow_status", json="half done").status_code == 204
    seen = get(v82, fid)
    assert seen["status"] == "closed_complete" and seen["tags"]["flow_status"] == "half done"
    assert get(v70, fid)["tags"]["flow_status"] == "half done"
    # Deleting the tag under 7.0 deletes what 7.0 saw by that name: the tag and the status.
    assert v70.delete(f"/flows/{fid}/tags/flow_status").status_code == 204
    seen = get(v82, fid)
    assert "status" not in seen and "flow_status" not in seen.get("tags", {})
    refused(v70, v70.delete(f"/flows/{fid}/tags/flow_status"), 404)


def test_70_put_of_the_flow_keeps_or_sets_status(v82, v70):
    doc = video(frame_rate=rate())
    doc["status"] = "ingesting"
    fid = put(v82, doc).json()["id"]
    seen = get(v70, fid)
    # The 7.0 document PUT back as read: unchanged.
    put(v70, seen, 204)
    assert get(v82, fid)["status"] == "ingesting"
    # Without the tag (a 7.0 client that never heard of it): the status is kept (R2).
    del seen["tags"]["flow_status"]
    put(v70, seen, 204)
    assert get(v82, fid)["status"] == "ingesting"
    # With another status value: set; a top-level status 7.0 has no name for is ignored.
    seen["tags"]["flow_status"] = "closed_complete"
    seen["status"] = "awaiting_content"
    put(v70, seen, 204)
    after = get(v82, fid)
    assert after["status"] == "closed_complete" and "flow_status" not in after.get("tags", {})


# ---- 19: ordered flow_collection, optional role ---------------------------------------------

def members(view, n):
    return [put(view, video(frame_rate=rate())).json()["id"] for _ in range(n)]


def test_collection_order_and_roleless_items(v82, v70):
    a, b, c = members(v82, 3)
    coll = [{"id": c}, {"id": a, "role": "audio"}, {"id": b}]
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": MULTI,
           "container": "video/mp2t", "flow_collection": coll}
    fid = put(v82, doc).json()["id"]
    assert get(v82, fid)["flow_collection"] == coll
    assert get(v82, fid, "/flow_collection") == coll
    v82.validate(get(v82, fid, "/flow_collection"), "flow-collection.json")
    view70 = [{"id": c, "role": ""}, {"id": a, "role": "audio"}, {"id": b, "role": ""}]
    assert get(v70, fid)["flow_collection"] == view70
    assert get(v70, fid, "/flow_collection") == view70
    v70.validate(get(v70, fid, "/flow_collection"), "flow-collection.json")
    # 7.0 writes back what it saw: roleless again, order kept.
    seen = get(v70, fid)
    put(v70, seen, 204)
    assert get(v82, fid)["flow_collection"] == coll
    assert v70.put(f"/flows/{fid}/flow_collection", json=list(reversed(view70))).status_code == 204
    assert get(v82, fid, "/flow_collection") == list(reversed(coll))
    # 7.0 still requires a role; 8.2 does not.
    body = refused(v70, v70.put(f"/flows/{fid}/flow_collection", json=[{"id": a}]))
    assert "role" in body["summary"]
    assert v82.put(f"/flows/{fid}/flow_collection", json=[{"id": b}, {"id": a}]).status_code == 204
    assert get(v82, fid, "/flow_collection") == [{"id": b}, {"id": a}]
    # the sources' collection follows: no role under 8.2, "" under 7.0
    src_b = get(v82, b)["source_id"]
    s82 = v82.get(f"/sources/{doc['source_id']}").json()
    v82.validate(s82, "source.json")
    assert {"id": src_b} in s82["source_collection"]
    s70 = v70.get(f"/sources/{doc['source_id']}").json()
    v70.validate(s70, "source.json")
    assert {"id": src_b, "role": ""} in s70["source_collection"]
    doc70 = dict(doc, id=str(uuid.uuid4()), flow_collection=[{"id": a}])
    refused(v70, v70.put(f"/flows/{doc70['id']}", json=doc70))
    # Collected members see their collector under both versions.
    assert fid in get(v70, a)["collected_by"] and fid in get(v82, a)["collected_by"]


# ---- 17: init_segments ------------------------------------------------------------------------

def test_init_segments_flag(v82, v70):
    with_init = put(v82, video(frame_rate=rate(), init_segments=True)).json()["id"]
    without = put(v82, video(frame_rate=rate(), init_segments=False)).json()["id"]
    absent = put(v82, video(frame_rate=rate())).json()["id"]
    assert get(v82, with_init)["essence_parameters"]["init_segments"] is True
    assert "init_segments" not in get(v70, with_init)["essence_parameters"]

    def listed(value):
        r = v82.get("/flows", params={"init_segments": value})
        assert r.status_code == 200, r.text
        for f in r.json():
            v82.validate(f, "flow-get.json")
        return {f["id"] for f in r.json()}

    assert with_init in listed("true") and not {without, absent} & listed("true")
    assert {without, absent} <= listed("false") and with_init not in listed("false")
    refused(v82, v82.get("/flows", params={"init_segments": "maybe"}))
    refused(v70, v70.get("/flows", params={"init_segments": "true"}))
    # 7.0 cannot say it, so a 7.0 PUT keeps it (R2); 7.0 refuses it in a body.
    seen = get(v70, with_init)
    seen["label"] = "relabelled by 7.0"
    put(v70, seen, 204)
    after = get(v82, with_init)
    assert after["essence_parameters"]["init_segments"] is True and after["label"] == seen["label"]
    seen["essence_parameters"]["init_segments"] = True
    refused(v70, v70.put(f"/flows/{with_init}", json=seen))


def test_multi_essence_parameters_typed_in_82(v82, v70):
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": MULTI,
           "container": "video/mp2t", "essence_parameters": {"init_segments": True}}
    put(v82, doc)
    assert get(v82, doc["id"])["essence_parameters"] == {"init_segments": True}
    assert get(v70, doc["id"])["essence_parameters"] == {}
    bad = dict(doc, id=str(uuid.uuid4()), essence_parameters={"frame_width": 3})
    refused(v82, v82.put(f"/flows/{bad['id']}", json=bad))
    # 7.0 may still write its free multi essence_parameters; 8.2 sees the members it types.
    bad["essence_parameters"]["init_segments"] = False
    put(v70, bad)
    assert get(v82, bad["id"])["essence_parameters"] == {"init_segments": False}
    assert get(v70, bad["id"])["essence_parameters"] == {"frame_width": 3}


# ---- 20: the 8.2 flow examples ------------------------------------------------------------------

EXAMPLES = SPEC82 / "examples"
FLOW_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("flow-get-200-*.json")) + [
    "flow-put.json", "flow-put-201.json", "flow-put-multi.json"]


@pytest.mark.parametrize("name", FLOW_EXAMPLES)
def test_82_examples_put_and_read_by_both(v82, v70, name):
    doc = json.loads((EXAMPLES / name).read_text())
    if any(item["id"] == doc["id"] for item in doc.get("flow_collection", [])):
        # Two multi examples list the flow itself, as in 7.0: refused (a cycle), then put
        # without that item.
        refused(v82, v82.put(f"/flows/{doc['id']}", json=doc))
        doc["flow_collection"] = [i for i in doc["flow_collection"] if i["id"] != doc["id"]]
    members = [item["id"] for item in doc.get("flow_collection", [])]
    for mid in members:  # members must exist first
        put(v82, video(mid, frame_rate=rate()))
    r = v82.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code in (201, 204), r.text
    got82 = get(v82, doc["id"])
    got70 = get(v70, doc["id"])
    for key in ("format", "codec", "container", "label", "source_id"):
        assert got82.get(key) == doc.get(key) == got70.get(key)
    if "status" in doc:
        assert got82["status"] == doc["status"] and "status" not in got70
    ep = doc.get("essence_parameters", {})
    assert got82.get("essence_parameters", {}) == ep
    for key in ("vfr", "init_segments"):
        assert key not in got70.get("essence_parameters", {})
    if "flow_collection" in doc:
        assert [i["id"] for i in got82["flow_collection"]] == members
        assert [i["id"] for i in got70["flow_collection"]] == members

