# SPDX-License-Identifier: Apache-2.0
"""A full disk under the data directory, for real: a small tmpfs mounted for the test.

Writes that storage cannot take are answered 507 Insufficient Storage with Retry-After and the
spec's error body, change nothing, are logged once per episode and shown in /metrics
(tams_storage_write_failing, tams_storage_write_failures_total,
tams_storage_writes_refused_total); once space is freed the next write works with no restart.
Mounting needs root (CAP_SYS_ADMIN): without it the tests are skipped, saying so.
"""
import base64
import contextlib
import os
import pathlib
import pwd
import re
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import ON_PG, TEST_DATABASE, Server, check_error, psql

VIDEO = "urn:x-nmos:format:video"
FS_BYTES = 24 << 20


@contextlib.contextmanager
def tmpfs(mnt, options):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tamsd-test-full", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the data directory (needs root): "
                    f"{r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def small_fs(tmpdir_path):
    mnt = tmpdir_path / "small"
    mnt.mkdir()
    with tmpfs(mnt, f"size={FS_BYTES},mode=0700"):
        yield mnt


@pytest.fixture
def full_server(small_fs, make_server):
    """A server whose data directory is on the small file system, and a filler: fill()
    takes every free byte, free() gives them back."""
    srv = make_server(data_dir=small_fs / "data", args=["--max-object-bytes", "8M"])
    filler = small_fs / "filler"

    def fill():
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for n in (1 << 20, 4096, 512, 1):  # down to the last scraps
                try:
                    while True:
                        os.write(fd, b"\0" * n)
                except OSError:
                    pass
        finally:
            os.close(fd)
        st = os.statvfs(small_fs)
        assert st.f_bavail * st.f_frsize < 4096, st

    def free():
        filler.unlink()

    srv.fill, srv.free = fill, free
    return srv


def make_flow(srv, **extra):
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": VIDEO,
           "codec": "video/h264", "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080}, **extra}
    r = srv.put(f"/flows/{doc['id']}", json=doc)
    return doc["id"], r


def metric(srv, name, area=None):
    text = srv.get("/metrics").text
    label = f'{{area="{area}"}}' if area else ""
    m = re.search(rf"^{re.escape(name + label)} (\d+)$", text, re.M)
    assert m, (name, area, text[-2000:])
    return int(m.group(1))


def episodes(srv, what):
    """(warnings that writes fail, notes that they work again) logged about what."""
    lines = [l.get("msg", "") for l in srv.log_lines()]
    return (sum(1 for m in lines if m.startswith(what + ": writes fail")),
            sum(1 for m in lines if m.startswith(what + ": writes work again")))


def wait_episodes(srv, what, want):
    """episodes() once it is want: a background write logs its end just after its commit."""
    deadline = time.time() + 10
    while episodes(srv, what) != want and time.time() < deadline:
        time.sleep(0.1)
    return episodes(srv, what)


def put_object(srv, obj, data):
    return srv.session.put(obj["put_url"]["url"], data=data,
                           headers={"Content-Type": "video/mp2t"}, timeout=30)


def test_uploads_on_a_full_disk(full_server):
    srv = full_server
    fid, r = make_flow(srv)
    assert r.status_code == 201, r.text
    objs = srv.post(f"/flows/{fid}/storage", json={"limit": 3}).json()["media_objects"]
    srv.fill()
    data = os.urandom(200_000)
    for obj in objs:  # several requests, one episode
        r = put_object(srv, obj, data)
        body = check_error(r, 507)
        assert body["type"] == "InsufficientStorage", body
        assert "try again later" in body["summary"], body
        assert int(r.headers["Retry-After"]) > 0
    assert episodes(srv, "built-in object store") == (1, 0), srv.stderr()
    assert metric(srv, "tams_storage_write_failing", "objects") == 1
    assert metric(srv, "tams_storage_write_failures_total", "objects") >= 3
    assert metric(srv, "tams_storage_writes_refused_total") >= 3
    # Nothing was stored: no temporary file left, and no segment can use the objects.
    assert os.listdir(srv.data_dir / "objects" / "tmp") == []
    r = srv.post(f"/flows/{fid}/segments", json={"object_id": objs[0]["object_id"],
                                                "timerange": "[0:0_1:0)"})
    assert "has not been uploaded" in check_error(r, 400)["summary"]
    # Reads still work.
    assert srv.get(f"/flows/{fid}").status_code == 200
    # Space comes back: the very next upload works, no restart.
    srv.free()
    assert put_object(srv, objs[0], data).status_code == 200
    assert metric(srv, "tams_storage_write_failing", "objects") == 0
    assert episodes(srv, "built-in object store") == (1, 1), srv.stderr()
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": objs[0]["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    seg = srv.get(f"/flows/{fid}/segments").json()[0]
    assert srv.session.get(seg["get_urls"][0]["url"]).content == data
    # Another episode right after (a disk that flaps between full and not) shows in the
    # metrics, but is not logged again within TAMS_DISKFULL_LOG_GAP_S (60 s) of the warning.
    srv.fill()
    check_error(put_object(srv, objs[1], data), 507)
    assert metric(srv, "tams_storage_write_failing", "objects") == 1
    srv.free()
    assert put_object(srv, objs[1], data).status_code == 200
    assert metric(srv, "tams_storage_write_failing", "objects") == 0
    assert episodes(srv, "built-in object store") == (1, 1), srv.stderr()


def fill_to(path, free_pages):
    """Fill the file system of path up to its last free_pages pages."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        try:
            while True:
                os.write(fd, b"\0" * (1 << 20))
        except OSError:
            pass
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        size = os.fstat(fd).st_size // 4096 * 4096
        os.ftruncate(fd, size)  # no partly used page at the end
        free = lambda: os.statvfs(path).f_bavail  # noqa: E731
        assert os.statvfs(path).f_frsize == 4096
        while free() < free_pages:
            size -= 4096
            os.ftruncate(fd, size)
        assert free() == free_pages, free()
    finally:
        os.close(fd)
    return filler


def test_upload_fails_when_its_content_type_cannot_be_written(full_server):
    """The bytes fit, the content type beside them does not: the commit step fails, 507, and
    nothing of the upload stays (no temporary file, no object), so the same URL works later."""
    srv = full_server
    fid, r = make_flow(srv)
    (obj,) = srv.post(f"/flows/{fid}/storage", json={"limit": 1}).json()["media_objects"]
    filler = fill_to(srv.data_dir.parent, 3)
    data = os.urandom(3 * 4096)
    body = check_error(put_object(srv, obj, data), 507)
    assert body["type"] == "InsufficientStorage", body
    warn = [l["msg"] for l in srv.log_lines() if "writes fail" in l.get("msg", "")]
    assert len(warn) == 1 and "cannot write an object's content type" in warn[0], warn
    assert os.listdir(srv.data_dir / "objects" / "tmp") == []
    files = [f for _, _, fs in os.walk(srv.data_dir / "objects") for f in fs]
    assert files == [], files
    filler.unlink()
    assert put_object(srv, obj, data).status_code == 200
    assert srv.post(f"/flows/{fid}/segments", json={"object_id": obj["object_id"],
                                                   "timerange": "[0:0_1:0)"}).status_code == 201
    seg = srv.get(f"/flows/{fid}/segments").json()[0]
    assert srv.session.get(seg["get_urls"][0]["url"]).content == data
    assert episodes(srv, "built-in object store") == (1, 1), srv.stderr()


def test_upload_fails_when_no_file_can_be_created(tmpdir_path, make_server):
    """Out of inodes rather than bytes: the upload's temporary file cannot be created (507),
    and once files can be created again the upload works."""
    mnt = tmpdir_path / "inodes"
    mnt.mkdir()
    with tmpfs(mnt, f"size={FS_BYTES},nr_inodes=400,mode=0700"):
        srv = make_server(data_dir=mnt / "data")
        fid, r = make_flow(srv)
        (obj,) = srv.post(f"/flows/{fid}/storage", json={"limit": 1}).json()["media_objects"]
        (mnt / "filler").mkdir()
        n = 0
        try:
            while True:
                (mnt / "filler" / str(n)).touch()
                n += 1
        except OSError:
            pass
        assert 0 < n < 400
        body = check_error(put_object(srv, obj, b"x" * 1000), 507)
        assert body["type"] == "InsufficientStorage", body
        warn = [l["msg"] for l in srv.log_lines() if "writes fail" in l.get("msg", "")]
        assert len(warn) == 1 and "cannot create a temporary upload file" in warn[0], warn
        assert metric(srv, "tams_storage_write_failing", "objects") == 1
        for i in range(n):
            (mnt / "filler" / str(i)).unlink()
        assert put_object(srv, obj, b"x" * 1000).status_code == 200
        assert metric(srv, "tams_storage_write_failing", "objects") == 0
        srv.stop()


@pytest.mark.skipif(ON_PG, reason="about the SQLite file on the data directory; this run's "
                                  "metadata is on PostgreSQL")
def test_metadata_writes_on_a_full_disk(full_server):
    srv = full_server
    fid, r = make_flow(srv)
    assert r.status_code == 201, r.text
    srv.fill()
    # A write larger than what the WAL file already holds must grow it: SQLITE_FULL.
    big = "x" * (3 << 20)
    refused = []
    for i in range(3):
        new_id, r = make_flow(srv, description=big)
        body = check_error(r, 507)
        assert body["type"] == "InsufficientStorage", body
        assert int(r.headers["Retry-After"]) > 0
        refused.append(new_id)
    assert episodes(srv, "metadata store") == (1, 0), srv.stderr()
    assert metric(srv, "tams_storage_write_failing", "metadata") == 1
    assert metric(srv, "tams_storage_writes_refused_total") >= 3
    assert not [l for l in srv.log_lines() if l.get("level") == "error"], srv.stderr()
    # Nothing of the refused writes is there; what was there still reads.
    for new_id in refused:
        check_error(srv.get(f"/flows/{new_id}"), 404)
    assert srv.get(f"/flows/{fid}").status_code == 200
    srv.free()
    new_id, r = make_flow(srv, description=big)
    assert r.status_code == 201, r.text
    assert metric(srv, "tams_storage_write_failing", "metadata") == 0
    assert episodes(srv, "metadata store") == (1, 1), srv.stderr()
    assert srv.get(f"/flows/{new_id}").json()["description"] == big
    # The server stopped cleanly and restarts on the same data.
    srv.stop()
    again = Server(srv.tmp, data_dir=srv.data_dir).start()
    try:
        assert again.get(f"/flows/{new_id}").status_code == 200
    finally:
        again.stop()


@pytest.mark.skipif(ON_PG, reason="about the SQLite file on the data directory; this run's "
                                  "metadata is on PostgreSQL")
def test_background_work_on_a_full_disk(tmpdir_path, make_server):
    """The deletion worker retries a batch the full disk cannot take every gc_interval: the
    episode is still logged once (the worker adds no warning of its own), and the work is done
    once space is freed."""
    mnt = tmpdir_path / "deletion"
    mnt.mkdir()
    with tmpfs(mnt, "size=64M,mode=0700"):
        srv = make_server(data_dir=mnt / "data",
                          args=["--delete-sync-limit", "1", "--delete-batch", "1000000",
                                "--gc-interval", "1"])
        try:
            background_work_on_a_full_disk(srv, mnt)
        finally:
            srv.stop()  # before the file system goes


def background_work_on_a_full_disk(srv, mnt):
    fid, r = make_flow(srv)
    assert r.status_code == 201, r.text
    ext = [{"url": "http://media.example.com/x.ts", "label": "ext"}]
    # In small transactions, so the WAL file (reused after each checkpoint) stays a few MB,
    # much less than the one transaction that deletes them all needs.
    for n in range(0, 30000, 1000):
        r = srv.post(f"/flows/{fid}/segments", json=[
            {"object_id": f"o{n + i}", "timerange": f"[{n + i}:0_{n + i + 1}:0)",
             "get_urls": ext} for i in range(1000)])
        assert r.status_code in (200, 201), r.text[:500]
    filler = fill_to(mnt, 64)  # 256 KiB: room for the deletion request, not for its work
    r = srv.delete(f"/flows/{fid}/segments")
    assert r.status_code == 202, r.text
    deadline = time.time() + 30
    while metric(srv, "tams_storage_write_failures_total", "metadata") < 3:
        assert time.time() < deadline, srv.stderr()[-3000:]
        time.sleep(0.2)
    lines = [l.get("msg", "") for l in srv.log_lines()]
    assert not [m for m in lines if m.startswith("deletion worker")], srv.stderr()[-3000:]
    assert episodes(srv, "metadata store") == (1, 0), srv.stderr()[-3000:]
    assert len(srv.get(f"/flows/{fid}/segments?limit=10").json()) == 10
    filler.unlink()
    deadline = time.time() + 120  # 30,000 segments in one batch: slow under a sanitizer
    while srv.get(f"/flows/{fid}/segments?limit=10").json():
        assert time.time() < deadline, srv.stderr()[-3000:]
        time.sleep(0.2)
    assert wait_episodes(srv, "metadata store", (1, 1)) == (1, 1), srv.stderr()[-3000:]
    assert metric(srv, "tams_storage_write_failing", "metadata") == 0


@pytest.fixture
def pg_small_tablespace():
    """A PostgreSQL tablespace on a small tmpfs, and a schema of its own: (database URL for
    tamsd, mount point). The test cluster must be local (TAMS_TEST_PGDATA, as scripts/test.sh
    runs it) since the tablespace's folder is on this machine."""
    if not ON_PG or not os.environ.get("TAMS_TEST_PGDATA"):
        pytest.skip("needs the local PostgreSQL test cluster (TAMS_TEST_DATABASE and "
                    "TAMS_TEST_PGDATA, as scripts/test.sh sets them)")
    pg = pwd.getpwnam("postgres")
    parent = pathlib.Path(tempfile.mkdtemp(prefix="tamsd-pgts-"))
    parent.chmod(0o755)  # the postgres user must reach the mount point
    mnt = parent / "ts"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        f"size={FS_BYTES},mode=0700,uid={pg.pw_uid},gid={pg.pw_gid}",
                        "tamsd-test-pgfull", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["rm", "-rf", str(parent)])
        pytest.skip(f"cannot mount a tmpfs for the tablespace (needs root): "
                    f"{r.stderr.strip() or r.returncode}")
    name = "tamsd_full_" + uuid.uuid4().hex[:8]
    try:
        psql(f"CREATE TABLESPACE {name} LOCATION '{mnt}'")
        psql(f"CREATE SCHEMA {name}")
        sep = "&" if "?" in TEST_DATABASE else "?"
        yield (f"{TEST_DATABASE}{sep}options=-csearch_path%3D{name}%20"
               f"-cdefault_tablespace%3D{name}"), mnt
    finally:
        psql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        psql(f"DROP TABLESPACE IF EXISTS {name}")
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        subprocess.run(["rm", "-rf", str(parent)])


def test_postgresql_disk_full(pg_small_tablespace, make_server):
    """PostgreSQL's 53100 disk_full: the tables live in a tablespace on a small tmpfs."""
    url, mnt = pg_small_tablespace
    srv = make_server(args=["--database", url])
    fid, r = make_flow(srv)
    assert r.status_code == 201, r.text
    filler = mnt / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for n in (1 << 20, 8192, 512):
            try:
                while True:
                    os.write(fd, b"\0" * n)
            except OSError:
                pass
    finally:
        os.close(fd)
    big = base64.b64encode(os.urandom(3 << 20)).decode()  # incompressible: TOAST must grow
    for _ in range(3):
        new_id, r = make_flow(srv, description=big)
        body = check_error(r, 507)
        assert body["type"] == "InsufficientStorage", body
        check_error(srv.get(f"/flows/{new_id}"), 404)
    assert episodes(srv, "metadata store") == (1, 0), srv.stderr()
    assert "53100" in srv.stderr() or "No space left" in srv.stderr(), srv.stderr()
    assert metric(srv, "tams_storage_write_failing", "metadata") == 1
    assert srv.get(f"/flows/{fid}").status_code == 200
    filler.unlink()
    new_id, r = make_flow(srv, description=big)
    assert r.status_code == 201, r.text
    assert metric(srv, "tams_storage_write_failing", "metadata") == 0
    assert episodes(srv, "metadata store") == (1, 1), srv.stderr()
    srv.stop()
