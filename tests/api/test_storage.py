# SPDX-License-Identifier: Apache-2.0
"""POST /flows/{id}/storage: allocation of media objects and their put_urls, against the binary."""
import uuid

import pytest

from conftest import API_VERSION, Server, VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"
JSON_CT = {"Content-Type": "application/json"}
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def new_id():
    return str(uuid.uuid4())


def video_flow(fid=None, container="video/mp2t", **extra):
    doc = {"id": fid or new_id(), "source_id": new_id(), "format": VIDEO, "codec": "video/h264",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    if container:
        doc["container"] = container
    doc.update(extra)
    return doc


def make_flow(srv, **kw):
    doc = video_flow(**kw)
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    assert r.status_code == 201, r.text
    return doc["id"]


def allocate(srv, fid, body=None, status=201, raw=None):
    if raw is not None:
        r = srv.post(f"/flows/{fid}/storage", data=raw, headers=JSON_CT)
    elif body is None:
        r = srv.post(f"/flows/{fid}/storage")
    else:
        r = srv.post(f"/flows/{fid}/storage", json=body)
    if status != 201:
        check_error(r, status)
        return r
    assert r.status_code == 201, (r.status_code, r.text)
    doc = r.json()
    validate(doc, "flow-storage.json")
    return doc["media_objects"]


def upload(srv, obj, data=b"media"):
    put = obj["put_url"]
    r = srv.session.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                        timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)


def register(srv, fid, object_id, tr, status=201):
    r = srv.post(f"/flows/{fid}/segments", json={"object_id": object_id, "timerange": tr})
    assert r.status_code == status, (r.status_code, r.text)
    return r


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("storage"), args=["--storage-limit-max", "25"])
    s.start()
    yield s
    s.stop()


def backend_id(srv):
    return srv.get("/service/storage-backends").json()[0]["id"]


# ---- shape ------------------------------------------------------------------------------------


def test_default_allocation_shape(srv):
    fid = make_flow(srv)
    objs = allocate(srv, fid)  # no body at all: the server default, 10
    assert len(objs) == 10
    objs2 = allocate(srv, fid, {})
    assert len(objs2) == 10
    ids = [o["object_id"] for o in objs + objs2]
    assert len(set(ids)) == 20
    for o in objs + objs2:
        # 8.2 says whether the put_url is presigned (change 31).
        extra = {"presigned"} if API_VERSION == "8.2" else set()
        assert set(o) == {"object_id", "put_url"} | extra
        uuid_ok = __import__("re").match(UUID_RE, o["object_id"])
        assert uuid_ok, o["object_id"]
        assert o["put_url"]["content-type"] == "video/mp2t"
        assert o["put_url"]["url"].startswith(srv.api + "/_objects/")
    # Every put_url is distinct, and so is every object key behind it.
    assert len({o["put_url"]["url"] for o in objs + objs2}) == 20


def test_content_type_is_the_flow_container(srv):
    fid = make_flow(srv, container="application/mxf")
    objs = allocate(srv, fid, {"limit": 1})
    assert objs[0]["put_url"]["content-type"] == "application/mxf"


@pytest.mark.parametrize("limit,expect", [(1, 1), (7, 7), (25, 25), (26, 25), (10**12, 25)])
def test_limit(srv, limit, expect):
    fid = make_flow(srv)
    assert len(allocate(srv, fid, {"limit": limit})) == expect


@pytest.mark.parametrize("limit", [0, -1, "5", 1.5, None, True, [1], {"n": 1}, 2**63, 2**64,
                                   -2**63 - 1, 1e3])
def test_bad_limit(srv, limit):
    fid = make_flow(srv)
    allocate(srv, fid, {"limit": limit}, status=400)


def test_object_ids(srv):
    fid = make_flow(srv)
    want = ["a/b/c.ts", "plain", "sp ace&%2F", new_id()]
    objs = allocate(srv, fid, {"object_ids": want})
    assert [o["object_id"] for o in objs] == want
    assert len({o["put_url"]["url"] for o in objs}) == len(want)
    # Allocated here, so registering them on this flow works (once uploaded).
    upload(srv, objs[0])
    register(srv, fid, "a/b/c.ts", "[0:0_1:0)")


def test_object_ids_and_limit_both(srv):
    fid = make_flow(srv)
    body = check_error(srv.post(f"/flows/{fid}/storage",
                                json={"limit": 1, "object_ids": ["x-" + new_id()]}), 400)
    assert "limit" in body["summary"] and "object_ids" in body["summary"]


def assert_nothing_allocated(srv, fid, ids):
    """None of ids was allocated: each can still be allocated now."""
    fresh = [i for i in ids if isinstance(i, str) and i]
    if fresh:
        got = allocate(srv, fid, {"object_ids": sorted(set(fresh))})
        assert sorted(o["object_id"] for o in got) == sorted(set(fresh))


@pytest.mark.parametrize("ids", [[], "abc", {"a": 1}, [1], ["ok-" + "1", None], ["ok-2", ""],
                                 ["dup-1", "x-1", "dup-1"], ["nul\u0000x"]])
def test_bad_object_ids(srv, ids):
    fid = make_flow(srv)
    allocate(srv, fid, {"object_ids": ids}, status=400)
    if isinstance(ids, list):
        assert_nothing_allocated(srv, fid, [i for i in ids if isinstance(i, str)
                                            and "\u0000" not in i])


def test_object_ids_over_the_cap(srv):
    fid = make_flow(srv)
    ids = [f"cap-{i}-{new_id()}" for i in range(26)]
    allocate(srv, fid, {"object_ids": ids}, status=400)
    assert_nothing_allocated(srv, fid, ids[:25])


def test_object_ids_already_existing(srv):
    fid = make_flow(srv)
    other = make_flow(srv)
    taken = "taken-" + new_id()
    (obj,) = allocate(srv, fid, {"object_ids": [taken]})
    fresh = ["fresh-" + new_id(), "fresh-" + new_id()]
    # Already allocated (not yet registered), by this flow or another: 400, nothing allocated.
    for f in (fid, other):
        body = allocate(srv, f, {"object_ids": [fresh[0], taken, fresh[1]]}, status=400).json()
        assert taken in body["summary"]
    # Registered, and registered as an uncontrolled object: also 400.
    upload(srv, obj)
    register(srv, fid, taken, "[0:0_1:0)")
    allocate(srv, other, {"object_ids": [taken]}, status=400)
    ext = "ext-" + new_id()
    r = srv.post(f"/flows/{fid}/segments",
                 json={"object_id": ext, "timerange": "[5:0_6:0)",
                       "get_urls": [{"url": "http://example.com/x", "label": "ext"}]})
    assert r.status_code == 201, r.text
    allocate(srv, other, {"object_ids": [ext]}, status=400)
    assert_nothing_allocated(srv, other, fresh)


def test_storage_id(srv):
    fid = make_flow(srv)
    bid = backend_id(srv)
    assert len(allocate(srv, fid, {"storage_id": bid, "limit": 2})) == 2
    body = allocate(srv, fid, {"storage_id": new_id()}, status=400).json()
    assert "storage" in body["summary"]
    for bad in ("not-a-uuid", bid.upper(), 5, None, "", bid + " "):
        allocate(srv, fid, {"storage_id": bad}, status=400)


def test_flow_without_container(srv):
    fid = make_flow(srv, container=None)
    body = allocate(srv, fid, {"limit": 1}, status=400).json()
    assert "container" in body["summary"]


def test_read_only_flow(srv):
    fid = make_flow(srv)
    assert srv.put(f"/flows/{fid}/read_only", json=True).status_code == 204
    allocate(srv, fid, {"limit": 1}, status=403)
    ids = ["ro-" + new_id()]
    allocate(srv, fid, {"object_ids": ids}, status=403)
    assert srv.put(f"/flows/{fid}/read_only", json=False).status_code == 204
    assert_nothing_allocated(srv, fid, ids)


def test_unknown_and_malformed_flow(srv):
    allocate(srv, new_id(), {"limit": 1}, status=404)
    allocate(srv, new_id(), None, status=404)
    for bad in ("not-a-uuid", new_id().upper(), "00000000-0000-0000-0000-000000000000"):
        allocate(srv, bad, {"limit": 1}, status=404)


def test_content_type_and_body(srv):
    fid = make_flow(srv)
    r = srv.post(f"/flows/{fid}/storage", data=b'{"limit": 1}',
                 headers={"Content-Type": "text/plain"})
    check_error(r, 400)
    r = srv.post(f"/flows/{fid}/storage", data=b'{"limit": 1}')  # no content type
    check_error(r, 400)
    for raw in (b"[]", b"5", b'"x"', b"null", b"true", b"{", b'{"limit": 1,}'):
        allocate(srv, fid, raw=raw, status=400)


def test_concurrent_allocation_of_the_same_ids(srv):
    import threading
    fid = make_flow(srv)
    ids = ["race-" + new_id(), "race-" + new_id()]
    codes = []

    def go():
        import requests
        with requests.Session() as s:
            codes.append(s.post(f"{srv.url}/flows/{fid}/storage", json={"object_ids": ids},
                                timeout=30).status_code)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [400] * 7, codes
