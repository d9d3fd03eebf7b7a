# SPDX-License-Identifier: Apache-2.0
"""The garbage collector: controlled media goes after the grace period once no segment uses it,
uncontrolled objects are only forgotten, allocated objects never used go after their timeout."""
import time

import pytest

from conftest import Server, check_error
from test_deletion import EXT, allocate, delete, make_flow, new_id, object_path, post, segments
from test_deletion import tr, upload


def wait_gone(path, timeout=10):
    deadline = time.time() + timeout
    while path.exists():
        assert time.time() < deadline, f"{path} still exists"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """Grace 1 s, unused objects after 2 s, a round every second."""
    s = Server(tmp_path_factory.mktemp("gc"),
               args=["--gc-grace", "1", "--gc-unused-after", "2", "--gc-interval", "1",
                     "--spec-timeout-floors", "false"])
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """A grace and an unused timeout far longer than the tests."""
    s = Server(tmp_path_factory.mktemp("gc-slow"),
               args=["--gc-grace", "3600", "--gc-unused-after", "3600", "--gc-interval", "1"])
    s.start()
    yield s
    s.stop()


def test_controlled_object_deleted_after_grace(fast):
    srv = fast
    fid = make_flow(srv)
    obj = allocate(srv, fid)[0]
    upload(srv, obj)
    path = object_path(srv, obj)
    post(srv, fid, {"object_id": obj["object_id"], "timerange": tr(0, 1)})
    time.sleep(2.5)
    assert path.exists()  # referenced: never touched
    delete(srv, f"/flows/{fid}/segments", 204)
    wait_gone(path)
    # The content type goes right after the bytes (local.c removes it last, on purpose).
    wait_gone(path.with_name(path.name + ".type"))
    check_error(srv.get(f"/objects/{obj['object_id']}"), 404)
    # The row went too: the id is unknown now, so registering it needs get_urls.
    check_error(srv.post(f"/flows/{fid}/segments",
                         json={"object_id": obj["object_id"], "timerange": tr(5, 6)}), 400)


def test_shared_object_kept(fast):
    srv = fast
    f1, f2 = make_flow(srv), make_flow(srv)
    obj = allocate(srv, f1)[0]
    upload(srv, obj, b"shared")
    post(srv, f1, {"object_id": obj["object_id"], "timerange": tr(0, 1)})
    post(srv, f2, {"object_id": obj["object_id"], "timerange": tr(0, 1)})
    delete(srv, f"/flows/{f1}", 204)
    time.sleep(3)
    assert object_path(srv, obj).exists()
    url = segments(srv, f2)[0]["get_urls"][0]["url"]
    assert srv.session.get(url, timeout=30).content == b"shared"
    delete(srv, f"/flows/{f2}", 204)
    wait_gone(object_path(srv, obj))


def test_reused_within_grace_is_kept(slow):
    srv = slow
    f1, f2 = make_flow(srv), make_flow(srv)
    obj = allocate(srv, f1)[0]
    upload(srv, obj)
    post(srv, f1, {"object_id": obj["object_id"], "timerange": tr(0, 1)})
    delete(srv, f"/flows/{f1}/segments", 204)
    time.sleep(2)
    assert object_path(srv, obj).exists()  # still inside the grace period
    # Registered once: reusable by any flow until the collector takes it.
    post(srv, f2, {"object_id": obj["object_id"], "timerange": tr(3, 4)})
    assert srv.get(f"/objects/{obj['object_id']}").json()["referenced_by_flows"] == [f2]


def test_uncontrolled_object_forgotten(fast):
    srv = fast
    fid = make_flow(srv)
    oid = "ext-" + new_id()
    post(srv, fid, {"object_id": oid, "timerange": tr(0, 1), "get_urls": EXT})
    delete(srv, f"/flows/{fid}/segments", 204)
    check_error(srv.get(f"/objects/{oid}"), 404)
    time.sleep(3)
    # Forgotten: reuse without get_urls is refused, with get_urls it is a new object.
    check_error(srv.post(f"/flows/{fid}/segments",
                         json={"object_id": oid, "timerange": tr(1, 2)}), 400)
    post(srv, fid, {"object_id": oid, "timerange": tr(1, 2), "get_urls": EXT})
    assert srv.get(f"/objects/{oid}").json()["referenced_by_flows"] == [fid]


def test_unused_allocation_collected(fast, slow):
    fid = make_flow(fast)
    obj = allocate(fast, fid)[0]
    upload(fast, obj)
    wait_gone(object_path(fast, obj))
    check_error(fast.post(f"/flows/{fid}/segments",
                          json={"object_id": obj["object_id"], "timerange": tr(0, 1)}), 400)
    # Within its timeout an allocation stays usable.
    fid = make_flow(slow)
    obj = allocate(slow, fid)[0]
    upload(slow, obj)
    time.sleep(2)
    assert object_path(slow, obj).exists()
    post(slow, fid, {"object_id": obj["object_id"], "timerange": tr(0, 1)})
