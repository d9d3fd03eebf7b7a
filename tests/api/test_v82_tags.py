"""TAMS 8.2 tags: a tag value is a string or a list of strings (docs/tams-8.2-changes.md,
entries 10 and 21), and how TAMS 7.0 sees and writes the same store: a list shown as its first
value, 7.0 writes that would lose a list refused with 409 and nothing changed."""
import json
import sqlite3
import uuid

from conftest import ON_PG, psql
from test_auth_upgrade import load_release_store

VIDEO = "urn:x-nmos:format:video"
TAGS = {"genre": ["news", "sport"], "one": ["solo"], "none": [], "plain": "x"}
SHOWN_70 = {"genre": "news", "one": "solo", "none": "", "plain": "x"}


def flow_doc(fid, sid, tags):
    return {"id": fid, "source_id": sid, "format": VIDEO, "codec": "video/h264",
            "container": "video/mp2t", "tags": tags,
            "essence_parameters": {"frame_width": 1920, "frame_height": 1080,
                                   "frame_rate": {"numerator": 25}}}


def put_flow(view, tags):
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    r = view.put(f"/flows/{fid}", json=flow_doc(fid, sid, tags))
    assert r.status_code == 201, r.text
    return fid, sid


def error(view, resp, status):
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    view.validate(body, "error.json")
    return body


def flow_tags(view, fid):
    """The flow's tags as the view shows them, everywhere it shows them, checked alike."""
    flow = view.get(f"/flows/{fid}").json()
    view.validate(flow, "flow-get.json" if view.version == "8.2" else "flow.json")
    again = view.get(f"/flows/{fid}").json()  # the cached document is the same
    assert again == flow
    tags = view.get(f"/flows/{fid}/tags").json()
    view.validate(tags, "tags.json")
    assert tags == flow.get("tags", {})
    for name, value in tags.items():
        assert view.get(f"/flows/{fid}/tags/{name}").json() == value
    listed = [f for f in view.get("/flows", params={"source_id": flow["source_id"]}).json()]
    assert [f["tags"] for f in listed] == [flow.get("tags", {})]
    return tags


def source_tags(view, sid):
    src = view.get(f"/sources/{sid}").json()
    view.validate(src, "source.json")
    assert view.get(f"/sources/{sid}").json() == src
    tags = view.get(f"/sources/{sid}/tags").json()
    view.validate(tags, "tags.json")
    assert tags == src["tags"]
    for name, value in tags.items():
        assert view.get(f"/sources/{sid}/tags/{name}").json() == value
    listed = [s for s in view.get("/sources", params={"format": VIDEO}).json() if s["id"] == sid]
    assert [s["tags"] for s in listed] == [tags]
    return tags


def test_flow_list_tags_seen_by_both_versions(v82, v70):
    fid, _ = put_flow(v82, TAGS)
    assert flow_tags(v82, fid) == TAGS
    assert flow_tags(v70, fid) == SHOWN_70
    # after a 7.0 read was cached, 8.2 still gets its own document
    assert flow_tags(v82, fid) == TAGS


def test_source_list_tags_seen_by_both_versions(v82, v70):
    _, sid = put_flow(v82, {})
    for name, value in TAGS.items():
        assert v82.put(f"/sources/{sid}/tags/{name}", json=value).status_code == 204
    assert source_tags(v82, sid) == TAGS
    assert source_tags(v70, sid) == SHOWN_70
    assert source_tags(v82, sid) == TAGS
    # 8.2 replaces a list by a string and back
    assert v82.put(f"/sources/{sid}/tags/plain", json=["a", "b", "c"]).status_code == 204
    assert v82.get(f"/sources/{sid}/tags/plain").json() == ["a", "b", "c"]
    assert v82.put(f"/sources/{sid}/tags/plain", json="y").status_code == 204
    assert v82.get(f"/sources/{sid}/tags/plain").json() == "y"
    assert v82.delete(f"/sources/{sid}/tags/genre").status_code == 204
    assert "genre" not in source_tags(v82, sid)


def test_bad_tag_values_are_refused(v82, v70):
    fid, sid = put_flow(v82, {})
    for bad in (5, ["a", 5], {"a": "b"}, None, [["a"]]):
        for path in (f"/flows/{fid}/tags/t", f"/sources/{sid}/tags/t"):
            error(v82, v82.put(path, json=bad), 400)
    # 7.0 takes strings only, in the property and in the whole flow
    for path in (f"/flows/{fid}/tags/t", f"/sources/{sid}/tags/t"):
        error(v70, v70.put(path, json=["a"]), 400)
    body = error(v70, v70.put(f"/flows/{fid}", json=flow_doc(fid, sid, {"t": ["a"]})), 400)
    assert "tags.t" in body["summary"]
    nid = str(uuid.uuid4())
    error(v82, v82.put(f"/flows/{nid}", json=flow_doc(nid, sid, {"t": ["a", 1]})), 400)
    assert flow_tags(v82, fid) == {} and source_tags(v82, sid) == {}


def test_70_single_tag_writes_keep_or_refuse_a_list(v82, v70):
    fid, sid = put_flow(v82, TAGS)
    for name, value in TAGS.items():
        assert v82.put(f"/sources/{sid}/tags/{name}", json=value).status_code == 204
    for path in (f"/flows/{fid}", f"/sources/{sid}"):
        before = v82.get(path).json()
        # several values: refused, whatever is written, and nothing changes
        for value in ("other", "news"):
            body = error(v70, v70.put(f"{path}/tags/genre", json=value), 409)
            assert "genre" in body["summary"] and "/tams/v8.2" in body["summary"]
        assert v82.get(path).json() == before
        # a one-value list (or an empty one) stays a list of the new value
        assert v70.put(f"{path}/tags/one", json="changed").status_code == 204
        assert v70.put(f"{path}/tags/none", json="filled").status_code == 204
        assert v70.put(f"{path}/tags/plain", json="y").status_code == 204
        assert v82.get(f"{path}/tags").json() == {"genre": ["news", "sport"], "one": ["changed"],
                                                  "none": ["filled"], "plain": "y"}
        # 7.0 may delete a list tag: it names what it deletes
        assert v70.delete(f"{path}/tags/genre").status_code == 204
        assert "genre" not in v82.get(f"{path}/tags").json()
    assert flow_tags(v70, fid) == {"one": "changed", "none": "filled", "plain": "y"}
    assert source_tags(v70, sid) == {"one": "changed", "none": "filled", "plain": "y"}


def test_70_whole_flow_put_keeps_the_lists_it_was_shown(v82, v70):
    fid, sid = put_flow(v82, TAGS)
    shown = v70.get(f"/flows/{fid}").json()
    # the document 7.0 read, written back unchanged: every list kept
    shown["label"] = "relabelled"
    assert v70.put(f"/flows/{fid}", json=shown).status_code == 204
    got = v82.get(f"/flows/{fid}").json()
    assert got["tags"] == TAGS and got["label"] == "relabelled"
    # a changed list of several values: 409, nothing written
    changed = dict(shown, label="no", tags=dict(SHOWN_70, genre="other"))
    body = error(v70, v70.put(f"/flows/{fid}", json=changed), 409)
    assert "genre" in body["summary"]
    assert v82.get(f"/flows/{fid}").json() == got
    # a changed one-value list stays a list; a removed tag goes; a new one is a string
    tags = dict(SHOWN_70, one="two", new="n")
    del tags["none"]
    assert v70.put(f"/flows/{fid}", json=dict(shown, tags=tags)).status_code == 204
    assert flow_tags(v82, fid) == {"genre": ["news", "sport"], "one": ["two"], "plain": "x",
                                   "new": "n"}
    # 8.2 writes the whole document as given
    assert v82.put(f"/flows/{fid}", json=flow_doc(fid, sid, {"plain": "z"})).status_code == 204
    assert flow_tags(v82, fid) == {"plain": "z"}


def test_tag_filters_match_a_list_element_in_both_versions(v82, v70):
    fid, sid = put_flow(v82, TAGS)
    other, osid = put_flow(v82, {"genre": "sport", "plain": ["x"]})
    for name, value in TAGS.items():
        assert v82.put(f"/sources/{sid}/tags/{name}", json=value).status_code == 204
    assert v82.put(f"/sources/{osid}/tags/genre", json="sport").status_code == 204

    def ids(view, what, **params):
        r = view.get(f"/{what}", params=params)
        assert r.status_code == 200, r.text
        for doc in r.json():
            view.validate(doc, "source.json" if what == "sources" else
                          ("flow-get.json" if view.version == "8.2" else "flow.json"))
        return sorted(d["id"] for d in r.json())

    for view in (v82, v70):
        assert ids(view, "flows", **{"tag.genre": "sport"}) == sorted([fid, other])
        assert ids(view, "flows", **{"tag.genre": "news"}) == [fid]
        assert ids(view, "flows", **{"tag.plain": "x"}) == sorted([fid, other])
        assert ids(view, "flows", **{"tag.one": "solo"}) == [fid]
        assert ids(view, "flows", **{"tag_exists.none": "true"}) == [fid]
        assert ids(view, "flows", **{"tag.none": ""}) == []
        assert ids(view, "sources", **{"tag.genre": "sport"}) == sorted([sid, osid])
        assert ids(view, "sources", **{"tag.genre": "news"}) == [sid]
        assert ids(view, "sources", **{"tag_exists.none": "true"}) == [sid]
        assert sid not in ids(view, "sources", **{"tag_exists.none": "false"})


def test_soft_deleted_source_comes_back_with_its_lists(make_server):
    srv = make_server(args=["--soft-delete-retention", "3600"])
    v82 = srv.at("8.2")
    fid, sid = put_flow(v82, TAGS)
    assert v82.put(f"/sources/{sid}/tags/genre", json=["a", "b"]).status_code == 204
    assert v82.delete(f"/flows/{fid}").status_code in (200, 202, 204)
    assert v82.get(f"/flows/{fid}").status_code == 404
    entry = [e for e in srv.get("/trash").json() if e["flow_id"] == fid and e["kind"] == "flow"][0]
    assert srv.post(f"/trash/{entry['id']}/restore").status_code == 204
    assert flow_tags(v82, fid) == TAGS
    assert source_tags(v82, sid) == {"genre": ["a", "b"]}


def test_tags_of_a_store_made_before_82_are_strings(make_server, tmp_path):
    data = tmp_path / "data"
    load_release_store(data, "http://127.0.0.1:9/")
    sid, fid = str(uuid.uuid4()), str(uuid.uuid4())
    doc = json.dumps(flow_doc(fid, sid, {"t": "v"}))
    now = "2026-01-01T00:00:00.000000Z"
    sql = [f"INSERT INTO sources(id, format, created, updated) VALUES ('{sid}', '{VIDEO}',"
           f" '{now}', '{now}')",
           f"INSERT INTO source_tags(source_id, name, value) VALUES ('{sid}', 's', 'w')",
           f"INSERT INTO flows(id, source_id, format, doc, created, metadata_updated) VALUES"
           f" ('{fid}', '{sid}', '{VIDEO}', '{doc}', '{now}', '{now}')",
           f"INSERT INTO flow_tags(flow_id, name, value) VALUES ('{fid}', 't', 'v')"]
    if ON_PG:
        import hashlib
        schema = "t_" + hashlib.sha1(str(data.resolve()).encode()).hexdigest()[:20]
        psql(f"SET search_path TO {schema}; " + "; ".join(sql))
    else:
        with sqlite3.connect(data / "tams.db") as db:
            for s in sql:
                db.execute(s)
    srv = make_server(data_dir=data)
    for view in (srv.at("8.2"), srv.at("7.0")):
        assert source_tags(view, sid) == {"s": "w"}
        assert flow_tags(view, fid) == {"t": "v"}
        assert [s["id"] for s in view.get("/sources", params={"tag.s": "w"}).json()] == [sid]
        assert [f["id"] for f in view.get("/flows", params={"tag.t": "v"}).json()] == [fid]
    # and the migrated rows take lists
    assert srv.at("8.2").put(f"/sources/{sid}/tags/s", json=["w", "x"]).status_code == 204
    assert srv.at("7.0").get(f"/sources/{sid}/tags/s").json() == "w"


def test_82_tag_filter_takes_a_list_of_values(v82, v70):
    fid, sid = put_flow(v82, {"genre": ["news", "sport"], "n": "a,b"})
    other, _ = put_flow(v82, {"genre": "drama"})
    ids = {}
    for view in (v82, v70):
        def get(what, **params):
            r = view.get(f"/{what}", params=params)
            assert r.status_code == 200, r.text
            return sorted(d["id"] for d in r.json())
        ids[view.version] = (get("flows", **{"tag.genre": "drama,sport"}),
                             get("flows", **{"tag.n": "a,b"}),
                             get("flows", **{"tag.genre": "x,y,news"}))
    # 8.2: any of the values; 7.0: the value as written, commas and all
    assert ids["8.2"] == (sorted([fid, other]), [], [fid])
    assert ids["7.0"] == ([], [fid], [])


def test_filters_beyond_a_statement_are_400(v82):
    many = ",".join(str(i) for i in range(65))
    error(v82, v82.get("/flows", params={"tag.a": many}), 400)
    tags = {f"tag.t{i}": "v" for i in range(63)}
    for what in ("flows", "sources"):
        error(v82, v82.get(f"/{what}", params=dict(tags, **{"tag.x": ",".join(["v"] * 40)})), 400)
        ids = ",".join(str(uuid.uuid4()) for _ in range(64))
        error(v82, v82.get(f"/{what}", params=dict(tags, collected_by_ids=ids)), 400)
        assert v82.get(f"/{what}", params=tags).status_code == 200


def test_70_tag_value_with_brackets_round_trips(v70, v82):
    """A string value holding '[' and ']' (and braces, quotes) is no list: both versions show
    the flow exactly as 7.0 wrote it, listed and alone, and a 7.0 PUT of what it read keeps
    it."""
    tags = {"note": "[draft] {v2} \"q\" [", "x": "]", "plain": "y"}
    fid, sid = put_flow(v70, tags)
    sent = flow_doc(fid, sid, tags)
    for view in (v70, v82):
        flow = view.get(f"/flows/{fid}").json()
        assert {k: flow[k] for k in sent} == sent
        assert flow_tags(view, fid) == tags
    read = v70.get(f"/flows/{fid}").json()
    assert v70.put(f"/flows/{fid}", json=read).status_code in (200, 204)
    assert flow_tags(v70, fid) == tags
    assert flow_tags(v82, fid) == tags
