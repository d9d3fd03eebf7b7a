# SPDX-License-Identifier: Apache-2.0
"""Deletion: DELETE /flows/{id}/segments, DELETE /flows/{id} (204 and 202) and
/flow-delete-requests, including a SIGKILL in the middle of a large flow deletion."""
import pathlib
import signal
import time
import urllib.parse
import uuid

import pytest

from conftest import API_VERSION, Server, VIDEO_RATE, check_error, db_scalar, validate

VIDEO = "urn:x-nmos:format:video"
EXT = [{"url": "http://media.example.com/x.ts", "label": "ext"}]


def new_id():
    return str(uuid.uuid4())


def make_flow(srv, fid=None, source_id=None, **extra):
    fid = fid or new_id()
    doc = {"id": fid, "source_id": source_id or new_id(), "format": VIDEO,
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE}}
    doc.update(extra)
    r = srv.put(f"/flows/{fid}", json=doc)
    assert r.status_code == 201, r.text
    return fid


def allocate(srv, fid, n=1):
    r = srv.post(f"/flows/{fid}/storage", json={"limit": n})
    assert r.status_code == 201, r.text
    return r.json()["media_objects"]


def upload(srv, obj, data=b"media"):
    r = srv.session.put(obj["put_url"]["url"], data=data,
                        headers={"Content-Type": obj["put_url"]["content-type"]}, timeout=30)
    assert r.status_code == 200, r.text


def object_path(srv, obj):
    """The built-in store's file of an allocated object (its key is in the put_url path)."""
    path = urllib.parse.urlsplit(obj["put_url"]["url"]).path
    key = path.split("/_objects/", 1)[1]
    return srv.data_dir / "objects" / key


def post(srv, fid, body, status=201):
    r = srv.post(f"/flows/{fid}/segments", json=body)
    assert r.status_code == status, (r.status_code, r.text)
    return r


def ts(i):
    return f"{i}:0"


def tr(a, b):
    return f"[{a}:0_{b}:0)"


def segments(srv, fid, query=""):
    r = srv.get(f"/flows/{fid}/segments?limit=1000{query}")
    assert r.status_code == 200, r.text
    return r.json()


def ranges(srv, fid, query=""):
    return [s["timerange"] for s in segments(srv, fid, query)]


def flow(srv, fid, query="?include_timerange=true"):
    r = srv.get(f"/flows/{fid}{query}")
    assert r.status_code == 200, r.text
    return r.json()


def delete(srv, path, status):
    r = srv.delete(path)
    if status >= 400:
        check_error(r, status)
    else:
        assert r.status_code == status, (r.status_code, r.text)
    return r


def check_request(srv, body):
    validate(body, "deletion-request.json")
    assert uuid.UUID(body["id"]).version == 4
    return body


def wait_done(srv, url, timeout=30):
    deadline = time.time() + timeout
    while True:
        r = srv.session.get(url, timeout=30)
        assert r.status_code == 200, r.text
        body = check_request(srv, r.json())
        if body["status"] in ("done", "error"):
            return body
        assert time.time() < deadline, body
        time.sleep(0.05)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("deletion"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A server that defers anything above 5 segments to a deletion request."""
    s = Server(tmp_path_factory.mktemp("deletion-small"),
               args=["--delete-sync-limit", "5", "--delete-batch", "3",
                     "--delete-request-ttl", "2", "--gc-interval", "1"])
    s.start()
    yield s
    s.stop()


# ---- DELETE /flows/{id}/segments ----------------------------------------------------------------


def test_containment_not_overlap(srv):
    fid = make_flow(srv)
    post(srv, fid, [{"object_id": f"o-{fid}-{i}", "timerange": tr(10 * i, 10 * i + 10),
                     "get_urls": EXT} for i in range(3)])
    before = flow(srv, fid)
    assert before["timerange"] == "[0:0_30:0)"
    time.sleep(0.01)
    r = delete(srv, f"/flows/{fid}/segments?timerange=[5:0_25:0)", 204)
    assert r.content == b""
    assert ranges(srv, fid) == [tr(0, 10), tr(20, 30)]
    after = flow(srv, fid)
    assert after["timerange"] == "[0:0_30:0)"  # the hull keeps its ends
    assert after["segments_updated"] > before["segments_updated"]
    assert after["metadata_updated"] == before["metadata_updated"]
    # Exact containment at the edges; a segment sticking out by one ns stays.
    delete(srv, f"/flows/{fid}/segments?timerange=[20:0_29:999999998]", 204)
    delete(srv, f"/flows/{fid}/segments?timerange=(20:0_30:0)", 204)
    assert ranges(srv, fid) == [tr(0, 10), tr(20, 30)]
    delete(srv, f"/flows/{fid}/segments?timerange=[20:0_29:999999999]", 204)
    assert ranges(srv, fid) == [tr(0, 10)]
    assert flow(srv, fid)["timerange"] == tr(0, 10)
    # Default: everything.
    delete(srv, f"/flows/{fid}/segments", 204)
    assert ranges(srv, fid) == []
    assert flow(srv, fid)["timerange"] == "()"
    # Nothing to delete is still 204, and segments_updated stays.
    stamp = flow(srv, fid)["segments_updated"]
    delete(srv, f"/flows/{fid}/segments", 204)
    delete(srv, f"/flows/{fid}/segments?timerange=()", 204)
    assert flow(srv, fid)["segments_updated"] == stamp


def test_object_id_filter(srv):
    fid = make_flow(srv)
    a, b = "a-" + new_id(), "b-" + new_id()
    post(srv, fid, [{"object_id": [a, b][i % 2], "timerange": tr(i, i + 1), "get_urls": EXT}
                    for i in range(6)])
    # ANDed with the timerange: a's segments inside [0, 3) only.
    delete(srv, f"/flows/{fid}/segments?object_id={a}&timerange=[0:0_3:0)", 204)
    assert ranges(srv, fid) == [tr(1, 2), tr(3, 4), tr(4, 5), tr(5, 6)]
    delete(srv, f"/flows/{fid}/segments?object_id={a}", 204)
    assert ranges(srv, fid) == [tr(1, 2), tr(3, 4), tr(5, 6)]
    delete(srv, f"/flows/{fid}/segments?object_id=nothing", 204)
    assert len(ranges(srv, fid)) == 3
    srv.get(f"/objects/{a}").status_code == 404
    assert srv.get(f"/objects/{b}").json()["referenced_by_flows"] == [fid]


def test_errors(srv):
    fid = make_flow(srv)
    post(srv, fid, {"object_id": "e-" + new_id(), "timerange": tr(0, 1), "get_urls": EXT})
    for q in ("?timerange=nonsense", "?timerange=[0:0_1:0)&timerange=_", "?reverse_order=true",
              "?limit=1", "?timerange=[99999999999999999999:0_]"):
        check_error(srv.delete(f"/flows/{fid}/segments{q}"), 400)
    check_error(srv.delete(f"/flows/{fid}?x=1"), 400)
    check_error(srv.delete(f"/flows/{new_id()}/segments"), 404)
    check_error(srv.delete("/flows/not-a-uuid/segments"), 404)
    check_error(srv.delete(f"/flows/{new_id()}"), 404)
    assert srv.delete(f"/flows/{fid}/segments?access_token=x&timerange=_").status_code == 204
    # Read-only blocks both deletions; nothing is removed.
    post(srv, fid, {"object_id": "e-" + new_id(), "timerange": tr(1, 2), "get_urls": EXT})
    assert srv.put(f"/flows/{fid}/read_only", json=True).status_code == 204
    check_error(srv.delete(f"/flows/{fid}/segments"), 403)
    check_error(srv.delete(f"/flows/{fid}"), 403)
    assert ranges(srv, fid) == [tr(1, 2)]
    assert srv.put(f"/flows/{fid}/read_only", json=False).status_code == 204
    delete(srv, f"/flows/{fid}", 204)
    check_error(srv.delete(f"/flows/{fid}"), 404)
    check_error(srv.delete(f"/flows/{fid}/segments"), 404)
    # Deletion requests: no such id; methods that do not exist.
    for rid in (new_id(), "x", "a%2Fb"):
        check_error(srv.get(f"/flow-delete-requests/{rid}"), 404)
        assert srv.head(f"/flow-delete-requests/{rid}").status_code == 404
    assert srv.delete(f"/flow-delete-requests/{new_id()}").status_code == 405
    assert srv.post("/flow-delete-requests", json={}).status_code == 405
    # 8.2 pages the list (change 34): there a limit that is not a count is the bad query.
    check_error(srv.get("/flow-delete-requests?limit=" + ("1" if API_VERSION == "7.0" else "x")),
                400)


def test_shared_object_survives(srv):
    f1, f2 = make_flow(srv), make_flow(srv)
    obj = allocate(srv, f1)[0]
    oid = obj["object_id"]
    upload(srv, obj)
    post(srv, f1, {"object_id": oid, "timerange": tr(0, 1)})
    post(srv, f2, {"object_id": oid, "timerange": tr(5, 6)})
    assert sorted(srv.get(f"/objects/{oid}").json()["referenced_by_flows"]) == sorted([f1, f2])
    delete(srv, f"/flows/{f1}/segments", 204)
    body = srv.get(f"/objects/{oid}").json()
    assert body["referenced_by_flows"] == [f2]
    # Still served through f2's get_urls.
    seg = segments(srv, f2)[0]
    assert srv.session.get(seg["get_urls"][0]["url"], timeout=30).content == b"media"
    delete(srv, f"/flows/{f2}", 204)
    check_error(srv.get(f"/objects/{oid}"), 404)


def test_sync_flow_delete(srv):
    src = new_id()
    f1, f2 = make_flow(srv, source_id=src), make_flow(srv, source_id=src)
    collector = make_flow(srv, flow_collection=[{"id": f1, "role": "a"}, {"id": f2, "role": "b"}])
    post(srv, f1, [{"object_id": "s-" + new_id(), "timerange": tr(i, i + 1), "get_urls": EXT}
                   for i in range(3)])
    assert srv.get(f"/flow-delete-requests").json() == [] or True
    delete(srv, f"/flows/{f1}", 204)
    check_error(srv.get(f"/flows/{f1}"), 404)
    assert srv.get(f"/sources/{src}").status_code == 200  # f2 still uses it
    assert flow(srv, collector, "")["flow_collection"] == [{"id": f2, "role": "b"}]
    delete(srv, f"/flows/{f2}", 204)
    check_error(srv.get(f"/sources/{src}"), 404)
    assert "flow_collection" not in flow(srv, collector, "")


# ---- deletion requests (202) ------------------------------------------------------------------


def test_async_flow_delete(small):
    srv = small
    src = new_id()
    fid = make_flow(srv, source_id=src, tags={"t": "x"})
    other = make_flow(srv, flow_collection=[{"id": fid, "role": "member"}])
    objs = allocate(srv, fid, 4)
    for o in objs:
        upload(srv, o)
    post(srv, fid, [{"object_id": objs[i % 4]["object_id"], "timerange": tr(i, i + 1)}
                    for i in range(20)])
    post(srv, other, {"object_id": objs[0]["object_id"], "timerange": tr(0, 1)})
    r = delete(srv, f"/flows/{fid}", 202)
    body = check_request(srv, r.json())
    assert body["flow_id"] == fid and body["delete_flow"] is True
    assert body["timerange_to_delete"] == tr(0, 20)
    assert body["status"] in ("created", "started", "done")
    loc = r.headers["Location"]
    assert loc == f"{srv.api}/flow-delete-requests/{body['id']}"
    # Gone for clients at once.
    check_error(srv.get(f"/flows/{fid}"), 404)
    assert srv.head(f"/flows/{fid}").status_code == 404
    check_error(srv.get(f"/flows/{fid}/label"), 404)
    assert fid not in [f["id"] for f in srv.get("/flows").json()]
    assert fid not in [f["id"] for f in srv.get(f"/flows?source_id={src}").json()]
    assert fid not in [f["id"] for f in srv.get("/flows?tag.t=x").json()]
    assert segments(srv, fid) == []
    check_error(srv.post(f"/flows/{fid}/segments", json={"object_id": "z", "timerange": tr(50, 51),
                                                        "get_urls": EXT}), 404)
    check_error(srv.post(f"/flows/{fid}/storage", json={}), 404)
    check_error(srv.put(f"/flows/{fid}/label", json="x"), 404)
    check_error(srv.delete(f"/flows/{fid}"), 404)
    check_error(srv.delete(f"/flows/{fid}/segments"), 404)
    assert "flow_collection" not in flow(srv, other, "")
    assert srv.get(f"/objects/{objs[0]['object_id']}").json()["referenced_by_flows"] == [other]
    check_error(srv.get(f"/objects/{objs[1]['object_id']}"), 404)
    # GET and HEAD of the request and of the list.
    r = srv.session.get(loc, timeout=30)
    assert r.status_code == 200
    check_request(srv, r.json())
    h = srv.session.head(loc, timeout=30)
    assert h.status_code == 200 and h.content == b""
    listing = srv.get("/flow-delete-requests")
    validate(listing.json(), "deletion-requests-list.json")
    assert body["id"] in [x["id"] for x in listing.json()]
    assert srv.head("/flow-delete-requests").status_code == 200
    done = wait_done(srv, loc)
    assert done["status"] == "done", done
    assert done["timerange_remaining"] == "()"
    assert "expiry" in done and done["updated"] >= done["created"]
    check_error(srv.get(f"/sources/{src}"), 404)  # it was the source's last flow
    # The id is free again.
    make_flow(srv, fid=fid)
    assert segments(srv, fid) == []
    # Finished requests expire (ttl 2 s) and are purged.
    deadline = time.time() + 10
    while srv.session.get(loc, timeout=30).status_code != 404:
        assert time.time() < deadline
        time.sleep(0.2)
    assert body["id"] not in [x["id"] for x in srv.get("/flow-delete-requests").json()]


def test_async_segments_delete(small):
    srv = small
    fid = make_flow(srv)
    post(srv, fid, [{"object_id": "x-" + new_id(), "timerange": tr(i, i + 1), "get_urls": EXT}
                    for i in range(30)])
    stamp = flow(srv, fid)["segments_updated"]
    # Five or fewer: now.
    delete(srv, f"/flows/{fid}/segments?timerange=[0:0_5:0)", 204)
    # More: a request, with the flow still visible.
    r = delete(srv, f"/flows/{fid}/segments?timerange=[10:0_20:500000000)", 202)
    body = check_request(srv, r.json())
    assert body["delete_flow"] is False
    assert body["timerange_to_delete"] == "[10:0_20:500000000)"
    assert flow(srv, fid)["id"] == fid
    done = wait_done(srv, r.headers["Location"])
    assert done["status"] == "done"
    got = ranges(srv, fid)
    assert got == [tr(i, i + 1) for i in list(range(5, 10)) + list(range(20, 30))]
    assert flow(srv, fid)["segments_updated"] > stamp
    # An object_id filter is always synchronous, however many segments it selects.
    oid = "many-" + new_id()
    f2 = make_flow(srv)
    post(srv, f2, [{"object_id": oid, "timerange": tr(i, i + 1), "get_urls": EXT}
                   for i in range(12)])
    delete(srv, f"/flows/{f2}/segments?object_id={oid}", 204)
    assert ranges(srv, f2) == []
    # Default range, large: the request shows "_".
    post(srv, f2, [{"object_id": oid, "timerange": tr(i, i + 1)} for i in range(12)])
    r = delete(srv, f"/flows/{f2}/segments", 202)
    assert r.json()["timerange_to_delete"] == "_"
    assert wait_done(srv, r.headers["Location"])["status"] == "done"
    assert ranges(srv, f2) == []


def test_kill_during_flow_delete(tmpdir_path):
    """SIGKILL right after a 202: after a restart the request finishes, nothing of the flow is
    left, media only it used is deleted and media another flow uses is intact."""
    args = ["--delete-sync-limit", "5", "--delete-batch", "10", "--gc-grace", "0",
            "--gc-interval", "1", "--access-log", "false"]
    data = tmpdir_path / "data"
    srv = Server(tmpdir_path / "a", args=args, data_dir=data)
    srv.tmp.mkdir(parents=True)
    srv.start()
    try:
        fid, keep = make_flow(srv), make_flow(srv)
        objs = []
        while len(objs) < 50:
            objs += allocate(srv, fid, 25)
        for i, o in enumerate(objs):
            upload(srv, o, f"object {i}".encode())
        post(srv, fid, [{"object_id": objs[i % 50]["object_id"], "timerange": tr(i, i + 1)}
                        for i in range(5000)])
        shared = objs[:10]
        post(srv, keep, [{"object_id": o["object_id"], "timerange": tr(i, i + 1)}
                         for i, o in enumerate(shared)])
        r = delete(srv, f"/flows/{fid}", 202)
        rid = r.json()["id"]
        srv.stop(sig=signal.SIGKILL, check=False)
    finally:
        if srv.proc:
            srv.stop(sig=signal.SIGKILL, check=False)
    left = db_scalar(data, "SELECT count(*) FROM segments WHERE flow_id = ?", fid)
    print(f"segments left at the kill: {left} of 5000")

    srv2 = Server(tmpdir_path / "b", args=args, data_dir=data)
    srv2.tmp.mkdir(parents=True)
    srv2.start()
    try:
        assert srv2.get(f"/flow-delete-requests/{rid}").status_code == 200
        done = wait_done(srv2, f"{srv2.url}/flow-delete-requests/{rid}", timeout=40)
        assert done["status"] == "done", done
        check_error(srv2.get(f"/flows/{fid}"), 404)
        assert db_scalar(data, "SELECT count(*) FROM segments WHERE flow_id = ?", fid) == 0
        assert db_scalar(data, "SELECT count(*) FROM object_refs WHERE flow_id = ?", fid) == 0
        assert db_scalar(data, "SELECT count(*) FROM flows WHERE id = ?", fid) == 0
        # Media of the other flow: intact, served through its get_urls.
        for seg in segments(srv2, keep):
            i = [o["object_id"] for o in objs].index(seg["object_id"])
            got = srv2.session.get(seg["get_urls"][0]["url"], timeout=30)
            assert got.status_code == 200 and got.content == f"object {i}".encode()
        # Media only the deleted flow used: deleted from the built-in store after the grace.
        deadline = time.time() + 20
        while any(object_path(srv2, o).exists() for o in objs[10:]):
            assert time.time() < deadline, [str(object_path(srv2, o)) for o in objs[10:]
                                             if object_path(srv2, o).exists()][:3]
            time.sleep(0.2)
        assert not any(pathlib.Path(str(object_path(srv2, o)) + ".type").exists()
                       for o in objs[10:])
        assert all(object_path(srv2, o).exists() for o in shared)
        assert db_scalar(data, "SELECT count(*) FROM object_trash") == 0
    finally:
        srv2.stop()
