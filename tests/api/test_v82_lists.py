"""TAMS 8.2 orders and filters of GET /sources and GET /flows (docs/tams-8.2-changes.md, entries
11, 12 and 18): sort_by with reverse_order and the fallback for an unset label, paging that
stays exact through a sorted list, collected_by_ids; 7.0 keeps its order and parameters."""
import urllib.parse
import uuid

import pytest

from test_paging import link_of
from test_v82_tags import error, flow_doc


def make(view, n, labels, run):
    """n flows (and so n sources), tagged run, labelled by labels (None: unset) on both."""
    ids = []
    for i in range(n):
        fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        doc = flow_doc(fid, sid, {"run": run})
        if labels[i] is not None:
            doc["label"] = labels[i]
        assert view.put(f"/flows/{fid}", json=doc).status_code == 201
        assert view.put(f"/sources/{sid}/tags/run", json=run).status_code == 204
        if labels[i] is not None:
            assert view.put(f"/sources/{sid}/label", json=labels[i]).status_code == 204
        ids.append((fid, sid))
    return ids


def expected(docs, key, reverse):
    """The 8.2 order: times newest first, labels A to Z with unset labels after (by id);
    ties by id in the same direction; reverse_order reverses it all."""
    if key in ("created", "updated", "metadata_updated"):
        order = sorted(docs, key=lambda d: (d[key], d["id"]), reverse=True)
    else:
        have = sorted((d for d in docs if d.get("label") is not None),
                      key=lambda d: (d["label"].encode(), d["id"]))
        order = have + sorted((d for d in docs if d.get("label") is None), key=lambda d: d["id"])
    ids = [d["id"] for d in order]
    return ids[::-1] if reverse else ids


def walk(view, what, params, limit, schema):
    """Every page of the listing through its Link headers; the ids in order."""
    url = view.api + f"/{what}?" + urllib.parse.urlencode(dict(params, limit=limit))
    ids = []
    while url:
        r = view.session.get(url, timeout=30)
        assert r.status_code == 200, r.text
        for doc in r.json():
            view.validate(doc, schema)
        ids += [d["id"] for d in r.json()]
        assert len(r.json()) <= limit
        url = link_of(r)
        if url:
            assert len(r.json()) == limit
    assert len(ids) == len(set(ids))
    return ids


LABELS = ["b", "a", "b", None, "c", None, "a", "B", ""]


@pytest.mark.parametrize("what,keys", [("sources", ("created", "updated", "label")),
                                       ("flows", ("created", "metadata_updated", "label"))])
def test_sorted_lists_page_exactly(v82, v70, what, keys):
    run = str(uuid.uuid4())
    make(v82, len(LABELS), LABELS, run)
    schema = "source.json" if what == "sources" else "flow-get.json"
    docs = v82.get(f"/{what}", params={"tag.run": run}).json()
    assert len(docs) == len(LABELS)
    # no sort_by: created, newest first
    assert [d["id"] for d in docs] == expected(docs, "created", False)
    for key in keys:
        for reverse in (False, True):
            params = {"tag.run": run, "sort_by": key}
            if reverse:
                params["reverse_order"] = "true"
            want = expected(docs, key, reverse)
            for limit in (1, 2, 4, 100):
                assert walk(v82, what, params, limit, schema) == want, (key, reverse, limit)
    # 7.0: by id, and the 8.2 parameters are not its own
    listed = v70.get(f"/{what}", params={"tag.run": run}).json()
    assert [d["id"] for d in listed] == sorted(d["id"] for d in docs)
    for bad in ({"sort_by": "created"}, {"reverse_order": "true"}, {"collected_by_ids": ""}):
        error(v70, v70.get(f"/{what}", params=bad), 400)


@pytest.mark.parametrize("what", ["sources", "flows"])
def test_sort_parameters_and_cursors_are_checked(v82, what):
    run = str(uuid.uuid4())
    make(v82, 3, ["x", "y", None], run)
    for bad in ({"sort_by": "id"}, {"sort_by": "segments"}, {"reverse_order": "maybe"},
                {"collected_by_ids": "nope"}, {"collected_by_ids": f"{uuid.uuid4()},"}):
        error(v82, v82.get(f"/{what}", params=bad), 400)
    r = v82.get(f"/{what}", params={"tag.run": run, "sort_by": "label", "limit": 1})
    key = r.headers["X-Paging-NextKey"]
    # a cursor of one order is refused by another
    for other in ({"sort_by": "created"}, {"sort_by": "label", "reverse_order": "true"}):
        error(v82, v82.get(f"/{what}", params=dict(other, page=key)), 400)
    assert v82.get(f"/{what}", params={"sort_by": "label", "page": key}).status_code == 200


def test_sorted_by_updated_follows_writes(v82):
    run = str(uuid.uuid4())
    ids = [sid for _, sid in make(v82, 4, [None] * 4, run)]
    for sid in (ids[2], ids[0]):  # ids[0] last written: newest
        assert v82.put(f"/sources/{sid}/description", json="d").status_code == 204
    got = [d["id"] for d in v82.get("/sources", params={"tag.run": run,
                                                         "sort_by": "updated"}).json()]
    assert got[:2] == [ids[0], ids[2]]


def collection(v82):
    """c collects m1 and m2; d collects m2; loner collects and is collected by nothing."""
    run = str(uuid.uuid4())
    (m1, s1), (m2, s2), (lf, sl) = make(v82, 3, [None] * 3, run)
    made = {}
    for name, members in (("c", [m1, m2]), ("d", [m2])):
        fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        doc = dict(flow_doc(fid, sid, {"run": run}),
                   flow_collection=[{"id": m, "role": "r"} for m in members])
        assert v82.put(f"/flows/{fid}", json=doc).status_code == 201
        assert v82.put(f"/sources/{sid}/tags/run", json=run).status_code == 204
        made[name] = (fid, sid)
    return run, made, {"m1": (m1, s1), "m2": (m2, s2), "loner": (lf, sl)}


@pytest.mark.parametrize("what", ["sources", "flows"])
def test_collected_by_ids(v82, what):
    run, coll, mem = collection(v82)
    i = 0 if what == "flows" else 1
    schema = "source.json" if what == "sources" else "flow-get.json"

    def ids(value):
        r = v82.get(f"/{what}", params={"tag.run": run, "collected_by_ids": value})
        assert r.status_code == 200, r.text
        for doc in r.json():
            v82.validate(doc, schema)
        return sorted(d["id"] for d in r.json())

    c, d = coll["c"][i], coll["d"][i]
    m1, m2, loner = mem["m1"][i], mem["m2"][i], mem["loner"][i]
    assert ids(c) == sorted([m1, m2])
    assert ids(d) == [m2]
    assert ids(f"{c},{d}") == sorted([m1, m2])
    assert ids(loner) == []
    assert ids(str(uuid.uuid4())) == []
    # empty: collected by none
    assert ids("") == sorted([c, d, loner])
    # with another order and paging
    got = walk(v82, what, {"tag.run": run, "collected_by_ids": c, "sort_by": "created",
                           "reverse_order": "true"}, 1, schema)
    assert sorted(got) == sorted([m1, m2])
