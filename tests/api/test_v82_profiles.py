"""TAMS 8.2 Profiles (docs/tams-8.2-changes.md 4, 16): /service/profiles under 8.2 only, flows
made from a Profile, GET /flows?profile_id=, and how 7.0 sees and writes such a flow. 8.2
responses are validated against the 8.2 schemas, 7.0 ones against 7.0 (R3)."""
import copy
import json
import uuid

from conftest import SPEC82, check_error

EXAMPLES = SPEC82 / "examples"


def example(name):
    return json.loads((EXAMPLES / name).read_text())


def profile(label="HD", codec="video/h264", **ep):
    doc = copy.deepcopy(example("profile-put.json"))
    doc["id"] = str(uuid.uuid4())
    doc["label"] = label
    doc["flow_metadata"]["codec"] = codec
    doc["flow_metadata"]["essence_parameters"].update(ep)
    return doc


def post(v82, doc, status=201):
    r = v82.post(f"/service/profiles/{doc['id']}", json=doc)
    assert r.status_code == status, r.text
    if status == 201:
        v82.validate(r.json(), "profile.json")
    return r


def refused(view, r, status=400):
    body = check_error(r, status)
    view.validate(body, "error.json")
    return body


def test_profile_create_read_and_head(v82, server):
    doc = example("profile-put.json")
    got = post(v82, doc).json()
    assert got["created"] and got["flow_metadata"] == doc["flow_metadata"]
    assert got["tags"] == doc["tags"] and got["label"] == doc["label"]
    r = v82.get(f"/service/profiles/{doc['id']}")
    assert r.status_code == 200 and r.json() == got
    v82.validate(r.json(), "profile.json")
    r = v82.head(f"/service/profiles/{doc['id']}")
    assert r.status_code == 200 and r.content == b""
    # Immutable: a second POST is 400, and there is no PUT or DELETE.
    assert "already exists" in refused(v82, v82.post(f"/service/profiles/{doc['id']}",
                                                     json=doc))["summary"]
    assert v82.put(f"/service/profiles/{doc['id']}", json=doc).status_code == 405
    assert v82.delete(f"/service/profiles/{doc['id']}").status_code == 405
    refused(v82, v82.get(f"/service/profiles/{uuid.uuid4()}"), 404)
    assert v82.head(f"/service/profiles/{uuid.uuid4()}").status_code == 404
    refused(v82, v82.get("/service/profiles/not-a-uuid"), 404)
    # Not a 7.0 route, at the prefix or the root.
    assert server.at("7.0").get("/service/profiles").status_code == 404
    assert server.at("7.0").get(f"/service/profiles/{doc['id']}").status_code == 404


def test_profile_examples(v82):
    for name in ("profile-get-200-image.json", "profile-get-200-video-h264-mxf.json",
                 "profile-get-200-video-h264.json", "profile-post-201.json"):
        doc = example(name)
        doc["id"] = str(uuid.uuid4())
        got = post(v82, doc).json()
        assert got["flow_metadata"] == doc["flow_metadata"], name


def test_profile_refusals(v82):
    base = profile()
    cases = [
        ({"flow_metadata": None}, "flow_metadata"),
        ({"flow_metadata": {"format": "urn:x-nmos:format:multi"}}, "flow_metadata.format"),
        ({"label": 3}, "label"),
        ({"tags": {"a": 3}}, "tags"),
        ({"id": str(uuid.uuid4())}, "id"),
    ]
    for change, word in cases:
        doc = dict(copy.deepcopy(base), **change)
        if doc["flow_metadata"] is None:
            del doc["flow_metadata"]
        assert word in refused(v82, v82.post(f"/service/profiles/{base['id']}", json=doc))["summary"]
    bad = copy.deepcopy(base)
    del bad["flow_metadata"]["essence_parameters"]["frame_rate"]  # the vfr rule applies
    assert "frame_rate" in refused(v82, v82.post(f"/service/profiles/{base['id']}",
                                                 json=bad))["summary"]
    assert v82.get(f"/service/profiles/{base['id']}").status_code == 404


def test_profile_list_filters_and_paging(v82):
    made = [post(v82, profile(label="p%d" % (i % 2), codec="video/h264" if i < 3 else "video/jxsv")
                 ).json() for i in range(5)]
    image = example("profile-get-200-image.json")
    image["id"] = str(uuid.uuid4())
    post(v82, image)

    def ids(**params):
        r = v82.get("/service/profiles", params=params)
        assert r.status_code == 200, r.text
        for p in r.json():
            v82.validate(p, "profile.json")
        return [p["id"] for p in r.json()]

    everything = ids()
    assert everything == sorted(everything) and len(everything) == 6
    assert set(ids(label="p0")) == {m["id"] for m in made if m["label"] == "p0"}
    assert set(ids(codec="video/jxsv")) == {m["id"] for m in made[3:]}
    assert ids(format="urn:x-tam:format:image") == [image["id"]]
    assert set(ids(format="urn:x-nmos:format:video")) == {m["id"] for m in made}
    seen, params = [], {"limit": 4}
    while True:
        r = v82.get("/service/profiles", params=params)
        assert r.status_code == 200
        seen += [p["id"] for p in r.json()]
        if "X-Paging-NextKey" not in r.headers:
            break
        assert "/tams/v8.2/service/profiles" in r.headers["Link"]
        params = {"limit": 4, "page": r.headers["X-Paging-NextKey"]}
    assert seen == everything
    r = v82.head("/service/profiles", params={"limit": 2})
    assert r.status_code == 200 and r.headers["X-Paging-Limit"] == "2" and r.content == b""
    refused(v82, v82.get("/service/profiles", params={"codec": "h264"}))
    refused(v82, v82.get("/service/profiles", params={"format": "video"}))
    refused(v82, v82.get("/service/profiles", params={"colour": "red"}))


def flow_from(pid, **extra):
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "profile_id": pid,
           "label": "from a profile"}
    doc.update(extra)
    return doc


def test_flow_from_profile_seen_by_both(v82, v70):
    p = post(v82, profile()).json()
    doc = flow_from(p["id"])
    r = v82.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    got = r.json()
    v82.validate(got, "flow-get.json")
    assert got["profile_id"] == p["id"]
    for k, v in p["flow_metadata"].items():
        assert got[k] == v
    seen = v70.get(f"/flows/{doc['id']}").json()
    v70.validate(seen, "flow.json")
    assert "profile_id" not in seen and seen["codec"] == "video/h264"
    assert seen["essence_parameters"] == p["flow_metadata"]["essence_parameters"]
    # The filter.
    plain = example("flow-put.json")
    plain["id"] = str(uuid.uuid4())
    assert v82.put(f"/flows/{plain['id']}", json=plain).status_code == 201
    r = v82.get("/flows", params={"profile_id": p["id"]})
    assert r.status_code == 200
    assert [f["id"] for f in r.json()] == [doc["id"]]
    for f in r.json():
        v82.validate(f, "flow-get.json")
    refused(v82, v82.get("/flows", params={"profile_id": "x"}))
    refused(v70, v70.get("/flows", params={"profile_id": p["id"]}))
    # What 8.2 read may be written back as it is (metadata equal to the profile's).
    assert v82.put(f"/flows/{doc['id']}", json=got).status_code == 204
    assert v82.get(f"/flows/{doc['id']}").json()["profile_id"] == p["id"]


def test_flow_profile_refusals(v82):
    p = post(v82, profile()).json()
    refused(v82, v82.put(f"/flows/{uuid.uuid4()}", json=flow_from(str(uuid.uuid4()))))
    doc = flow_from(p["id"], codec="video/jxsv")
    body = refused(v82, v82.put(f"/flows/{doc['id']}", json=doc))
    assert "profile" in body["summary"]
    assert v82.get(f"/flows/{doc['id']}").status_code == 404


def test_82_put_with_empty_profile_id_breaks_the_link(v82):
    p = post(v82, profile()).json()
    doc = flow_from(p["id"])
    assert v82.put(f"/flows/{doc['id']}", json=doc).status_code == 201
    got = v82.get(f"/flows/{doc['id']}").json()
    got["profile_id"] = ""
    got["codec"] = "video/jxsv"
    assert v82.put(f"/flows/{doc['id']}", json=got).status_code == 204
    after = v82.get(f"/flows/{doc['id']}").json()
    v82.validate(after, "flow-get.json")
    assert "profile_id" not in after and after["codec"] == "video/jxsv"
    assert v82.get("/flows", params={"profile_id": p["id"]}).json() == []


def test_70_put_keeps_or_clears_profile_id(v82, v70):
    p = post(v82, profile()).json()
    doc = flow_from(p["id"])
    assert v82.put(f"/flows/{doc['id']}", json=doc).status_code == 201
    seen = v70.get(f"/flows/{doc['id']}").json()
    seen["label"] = "relabelled by 7.0"
    assert v70.put(f"/flows/{doc['id']}", json=seen).status_code == 204
    after = v82.get(f"/flows/{doc['id']}").json()
    assert after["profile_id"] == p["id"] and after["label"] == "relabelled by 7.0"
    # A 7.0 property write keeps it too.
    assert v70.put(f"/flows/{doc['id']}/description", json="d").status_code == 204
    assert v82.get(f"/flows/{doc['id']}").json()["profile_id"] == p["id"]
    # Different technical metadata: the flow no longer follows the profile.
    seen["codec"] = "video/jxsv"
    assert v70.put(f"/flows/{doc['id']}", json=seen).status_code == 204
    after = v82.get(f"/flows/{doc['id']}").json()
    v82.validate(after, "flow-get.json")
    assert "profile_id" not in after and after["codec"] == "video/jxsv"


def test_flow_put_profile_example(v82, v70):
    post(v82, example("profile-put.json"))
    doc = example("flow-put-profile.json")
    r = v82.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    v82.validate(r.json(), "flow-get.json")
    assert r.json()["profile_id"] == doc["profile_id"]
    assert r.json()["codec"] == example("profile-put.json")["flow_metadata"]["codec"]
    seen = v70.get(f"/flows/{doc['id']}").json()
    v70.validate(seen, "flow.json")
    assert "profile_id" not in seen
