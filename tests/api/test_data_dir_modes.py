# SPDX-License-Identifier: Apache-2.0
"""Everything tamsd creates in its data directory is its user's alone (0700 folders, 0600
files), whatever the umask it was started with: the database and its WAL and shared-memory
files, media objects and their .type files, temporary upload files, media.secret and the
credentials written by `tamsd token`."""
import os
import socket
import stat
import subprocess
import time
import urllib.parse
import uuid

from conftest import BIN, ON_PG, Server

VIDEO = "urn:x-nmos:format:video"


def walk(root):
    """(path, mode) of root and everything under it."""
    out = [(str(root), os.lstat(root).st_mode)]
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            out.append((p, os.lstat(p).st_mode))
    return out


def assert_private(root):
    seen = walk(root)
    wide = [(p, oct(stat.S_IMODE(m))) for p, m in seen if stat.S_IMODE(m) & 0o077]
    assert not wide, wide
    for p, m in seen:
        if stat.S_ISDIR(m):
            assert stat.S_IMODE(m) == 0o700, (p, oct(m))
        else:
            assert stat.S_IMODE(m) == 0o600, (p, oct(m))
    return [p for p, _ in seen]


def test_nothing_wider_than_the_owner_with_umask_0(tmpdir_path):
    data = tmpdir_path / "new" / "parents" / "data"  # tamsd creates the whole chain
    old = os.umask(0)
    srv = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
        r = subprocess.run([BIN, "token", "create", "--name", "modes", "--scopes",
                            "read,write,delete", "--data-dir", str(data)],
                           capture_output=True, text=True, env=env, timeout=30)
        assert r.returncode == 0, r.stderr
        token = r.stdout.strip()
        srv = Server(tmpdir_path, data_dir=data)
        srv.start()
        srv.session.headers["Authorization"] = f"Bearer {token}"
        fid = str(uuid.uuid4())
        flow = {"id": fid, "source_id": str(uuid.uuid4()), "format": VIDEO,
                "codec": "video/h264", "container": "video/mp2t",
                "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
        assert srv.put(f"/flows/{fid}", json=flow).status_code == 201
        objs = srv.post(f"/flows/{fid}/storage", json={"limit": 2}).json()["media_objects"]
        put = objs[0]["put_url"]
        assert srv.session.put(put["url"], data=b"x" * 4096,
                               headers={"Content-Type": "video/mp2t"}).status_code == 200
        assert srv.post(f"/flows/{fid}/segments", json={
            "object_id": objs[0]["object_id"], "timerange": "[0:0_1:0)"}).status_code == 201
        # An upload in progress: its temporary file exists while the body streams in.
        parts = urllib.parse.urlsplit(objs[1]["put_url"]["url"])
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall((f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: video/mp2t\r\nContent-Length: 100000\r\n\r\n").encode()
                      + b"y" * 5000)
            deadline = time.time() + 10
            while not os.listdir(data / "objects" / "tmp"):
                assert time.time() < deadline, "no temporary upload file appeared"
                time.sleep(0.05)
            paths = assert_private(data)
        names = {os.path.basename(p) for p in paths}
        assert {"media.secret", "credentials.json"} <= names, names
        assert any(p.endswith(".type") for p in paths), paths
        if not ON_PG:  # the WAL and shared-memory files exist while the server runs
            assert {"tams.db", "tams.db-wal", "tams.db-shm"} <= names, names
        for p in (tmpdir_path / "new", tmpdir_path / "new" / "parents"):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o700, p
        srv.stop()
        srv = None
        assert_private(data)
    finally:
        os.umask(old)
        if srv:
            srv.stop()
