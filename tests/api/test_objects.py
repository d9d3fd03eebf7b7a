# SPDX-License-Identifier: Apache-2.0
"""GET/HEAD /objects/{objectId}: the flows referencing a media object, paged."""
import re
import urllib.parse
import uuid

import pytest

from conftest import Server, VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"
LINK_RE = re.compile(r'^<([^>]+)>; rel="next"$')
HEADERS = ("Link", "X-Paging-Limit", "X-Paging-NextKey", "Content-Type", "Content-Length")
EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def new_id():
    return str(uuid.uuid4())


def make_flow(srv, fid=None):
    fid = fid or new_id()
    doc = {"id": fid, "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    r = srv.put(f"/flows/{fid}", json=doc)
    assert r.status_code == 201, r.text
    return fid


def allocate(srv, fid, **body):
    """Allocate objects and upload a few bytes to each (registration checks they are there)."""
    r = srv.post(f"/flows/{fid}/storage", json=body or {"limit": 1})
    assert r.status_code == 201, r.text
    objs = r.json()["media_objects"]
    for o in objs:
        put = o["put_url"]
        u = srv.session.put(put["url"], data=b"object",
                            headers={"Content-Type": put["content-type"]}, timeout=30)
        assert u.status_code == 200, u.text
    return [o["object_id"] for o in objs]


def post(srv, fid, body, status=201):
    r = srv.post(f"/flows/{fid}/segments", json=body)
    assert r.status_code == status, (r.status_code, r.text)
    return r


def quote(object_id):
    q = urllib.parse.quote(object_id, safe="")
    return q.replace(".", "%2E") if set(object_id) <= {"."} else q


def twin(srv, path_or_url):
    url = path_or_url if path_or_url.startswith("http") else srv.url + path_or_url
    g = srv.session.get(url, timeout=30)
    h = srv.session.head(url, timeout=30)
    assert h.status_code == g.status_code, (url, g.status_code, h.status_code)
    assert h.content == b""
    for name in HEADERS:
        assert h.headers.get(name) == g.headers.get(name), (url, name)
    return g


def get_object(srv, object_id, query="", status=200):
    r = twin(srv, f"/objects/{quote(object_id)}{query}")
    if status != 200:
        check_error(r, status)
        return r
    assert r.status_code == 200, r.text
    body = r.json()
    validate(body, "object.json")
    assert body["id"] == object_id
    assert "X-Paging-Limit" in r.headers
    return r


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("objects"))
    s.start()
    yield s
    s.stop()


def test_after_registration(srv):
    fid = make_flow(srv)
    oid = allocate(srv, fid)[0]
    get_object(srv, oid, status=404)  # allocated but not registered
    post(srv, fid, {"object_id": oid, "timerange": "[0:0_1:0)"})
    r = get_object(srv, oid)
    assert r.json() == {"id": oid, "referenced_by_flows": [fid], "first_referenced_by_flow": fid}
    assert "Link" not in r.headers and "X-Paging-NextKey" not in r.headers
    # Several segments of one flow: the flow once.
    post(srv, fid, {"object_id": oid, "timerange": "[1:0_2:0)", "sample_offset": 25})
    assert get_object(srv, oid).json()["referenced_by_flows"] == [fid]


def test_unknown_objects(srv):
    for oid in ("nothing", new_id(), "a/b", "..", "x%y", " "):
        get_object(srv, oid, status=404)
    # A failed registration creates no object.
    fid = make_flow(srv)
    post(srv, fid, {"object_id": "never", "timerange": "[0:0_1:0)"}, status=400)
    get_object(srv, "never", status=404)
    post(srv, fid, {"object_id": "bad-range", "timerange": "x", "get_urls": EXT}, status=400)
    get_object(srv, "bad-range", status=404)


def test_ids_with_slashes_and_odd_characters(srv):
    fid = make_flow(srv)
    ids = ["tams-bucket/" + new_id() + ".ts", "a/b/c", "sp ace+plus&amp=eq?q#h%25",
           "ünï", "/leading", "trailing/"]
    allocate(srv, fid, object_ids=ids)
    post(srv, fid, [{"object_id": oid, "timerange": f"[{i}:0_{i + 1}:0)"}
                    for i, oid in enumerate(ids)])
    for oid in ids:
        assert get_object(srv, oid).json()["referenced_by_flows"] == [fid]
    # A raw '/' in the path names the same object as %2F.
    r = twin(srv, "/objects/a/b/c")
    assert r.status_code == 200 and r.json()["id"] == "a/b/c"
    get_object(srv, "a/b", status=404)
    get_object(srv, "a/b/c/", status=404)


def test_uncontrolled_object(srv):
    fid = make_flow(srv)
    post(srv, fid, {"object_id": "ext/obj.ts", "timerange": "[0:0_1:0)", "get_urls": EXT})
    body = get_object(srv, "ext/obj.ts").json()
    assert body == {"id": "ext/obj.ts", "referenced_by_flows": [fid],
                    "first_referenced_by_flow": fid}


def test_reuse_by_many_flows_and_paging(srv):
    owner = make_flow(srv)
    oid = allocate(srv, owner)[0]
    post(srv, owner, {"object_id": oid, "timerange": "[0:0_1:0)"})
    others = [make_flow(srv) for _ in range(6)]
    for i, f in enumerate(others):
        post(srv, f, {"object_id": oid, "timerange": f"[{i}:0_{i + 1}:0)", "ts_offset": f"{i}:0"})
    everyone = sorted([owner] + others)
    body = get_object(srv, oid).json()
    assert sorted(body["referenced_by_flows"]) == everyone
    assert body["first_referenced_by_flow"] == owner
    for limit in (1, 2, 3, 7, 100):
        url, seen, pages = f"/objects/{quote(oid)}?limit={limit}", [], 0
        while url:
            r = twin(srv, url)
            assert r.status_code == 200, r.text
            page = r.json()
            validate(page, "object.json")
            assert page["id"] == oid and page["first_referenced_by_flow"] == owner
            assert len(page["referenced_by_flows"]) <= limit
            assert r.headers["X-Paging-Limit"] == str(limit)
            seen += page["referenced_by_flows"]
            pages += 1
            link = r.headers.get("Link")
            if link:
                url = LINK_RE.match(link).group(1)
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
                assert q["page"] == r.headers["X-Paging-NextKey"]
                assert q["limit"] == str(limit)
                assert urllib.parse.urlsplit(url).path == f"/objects/{quote(oid)}" or \
                    urllib.parse.unquote(urllib.parse.urlsplit(url).path) == f"/objects/{oid}"
            else:
                assert "X-Paging-NextKey" not in r.headers
                url = None
        assert sorted(seen) == everyone and len(seen) == len(everyone), limit
        assert pages == -(-len(everyone) // limit), limit


def test_paging_of_id_with_slash(srv):
    oid = "dir/sub dir/" + new_id()
    flows = [make_flow(srv) for _ in range(3)]
    allocate(srv, flows[0], object_ids=[oid])
    for i, f in enumerate(flows):
        post(srv, f, {"object_id": oid, "timerange": f"[{i}:0_{i + 1}:0)"})
    r = get_object(srv, oid, "?limit=2")
    url = LINK_RE.match(r.headers["Link"]).group(1)
    r2 = twin(srv, url)
    assert r2.status_code == 200
    assert r2.json()["id"] == oid
    assert sorted(r.json()["referenced_by_flows"] + r2.json()["referenced_by_flows"]) == \
        sorted(flows)


def test_bad_queries(srv):
    fid = make_flow(srv)
    oid = allocate(srv, fid)[0]
    post(srv, fid, {"object_id": oid, "timerange": "[0:0_1:0)"})
    for q in ("?limit=0", "?limit=-1", "?limit=x", "?page=abc", "?page=", "?other=1",
              "?limit=1&limit=2"):
        get_object(srv, oid, q, status=400)
    # A segments page key is not an object page key.
    post(srv, fid, [{"object_id": oid, "timerange": f"[{i}:0_{i + 1}:0)"} for i in range(1, 4)])
    key = srv.get(f"/flows/{fid}/segments?limit=1").headers["X-Paging-NextKey"]
    get_object(srv, oid, "?page=" + key, status=400)
    get_object(srv, oid, "?access_token=abc")


def test_methods(srv):
    fid = make_flow(srv)
    oid = allocate(srv, fid)[0]
    post(srv, fid, {"object_id": oid, "timerange": "[0:0_1:0)"})
    for method in ("DELETE", "PUT", "POST"):
        r = srv.request(method, f"/objects/{oid}", json={})
        check_error(r, 405)
        assert "GET" in r.headers["Allow"]
    get_object(srv, oid)


def test_flows_deleted(srv):
    """Deleting a flow removes it from referenced_by_flows; with no flow left the object is
    404 (no segment references it), and it can still be reused by id afterwards."""
    f1, f2 = make_flow(srv), make_flow(srv)
    oid = allocate(srv, f1)[0]
    post(srv, f1, {"object_id": oid, "timerange": "[0:0_1:0)"})
    post(srv, f2, {"object_id": oid, "timerange": "[0:0_1:0)"})
    assert srv.delete(f"/flows/{f1}").status_code == 204
    body = get_object(srv, oid).json()
    assert body["referenced_by_flows"] == [f2]
    assert srv.delete(f"/flows/{f2}").status_code == 204
    get_object(srv, oid, status=404)
    f3 = make_flow(srv)
    post(srv, f3, {"object_id": oid, "timerange": "[0:0_1:0)"})
    assert get_object(srv, oid).json()["referenced_by_flows"] == [f3]
