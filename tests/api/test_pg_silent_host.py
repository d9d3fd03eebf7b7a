# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL store: a database host that goes silent (connections are accepted but never
answered, as when a host or its network hangs) must not hold every worker thread: while it is
unreachable one request at a time tries to connect and the rest get 503 at once; /health never
waits; service resumes by itself when the host answers again. A TCP proxy in front of the test
PostgreSQL plays the host. PostgreSQL only."""
import socket
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import ON_PG, check_error, pg_schema_url

pytestmark = pytest.mark.skipif(not ON_PG, reason="needs TAMS_TEST_DATABASE=postgresql://...")


class Proxy:
    """Forwards 127.0.0.1:port to the database; silent() cuts what is open and from then on
    accepts connections without ever answering; forward() goes back to forwarding."""

    def __init__(self, target):
        self.target = target
        self.mode = "forward"
        self.lock = threading.Lock()
        self.socks = []
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                self.socks.append(c)
                if self.mode != "forward":
                    continue  # held open, never read, never answered
                u = socket.create_connection(self.target)
                self.socks.append(u)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def silent(self):
        with self.lock:
            self.mode = "silent"
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.socks = []

    def forward(self):
        with self.lock:
            self.mode = "forward"

    def close(self):
        self.ls.close()
        self.silent()


def flow(fid):
    return {"id": fid, "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:data",
            "codec": "text/plain", "container": "text/plain", "essence_parameters": {}}


def test_silent_database_host_does_not_hold_the_workers(make_server, tmpdir_path):
    data = tmpdir_path / "silent-data"
    url = urllib.parse.urlsplit(pg_schema_url(data))
    proxy = Proxy((url.hostname, url.port))
    try:
        netloc = f"{url.username}@127.0.0.1:{proxy.port}" if url.username else \
            f"127.0.0.1:{proxy.port}"
        db = urllib.parse.urlunsplit(url._replace(netloc=netloc,
                                                  query=url.query + "&connect_timeout=2"))
        srv = make_server(args=["--database", db, "--db-pool-size", "4", "--access-log", "false"],
                          data_dir=data)
        fid = str(uuid.uuid4())
        assert srv.put(f"/flows/{fid}", json=flow(fid)).status_code == 201

        proxy.silent()
        results = []

        def one():
            t0 = time.time()
            r = requests.get(srv.url + "/flows", timeout=30)  # a connection each
            results.append((r, time.time() - t0))

        t0 = time.time()
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        h0 = time.time()
        assert requests.get(srv.url + "/health", timeout=5).status_code == 200
        health = time.time() - h0
        for t in threads:
            t.join(60)
        took = time.time() - t0
        assert len(results) == 8
        for r, _ in results:
            assert check_error(r, 503)["type"] == "ServiceUnavailable"
            assert r.headers.get("Retry-After") == "1"
        # Eight requests that each waited out the 2 s connect timeout on two worker threads
        # would take 8 s; with one attempt at a time the rest are answered at once.
        assert took < 5, (took, sorted(round(d, 2) for _, d in results))
        assert health < 3, health
        assert srv.proc.poll() is None

        proxy.forward()
        deadline = time.time() + 10
        while srv.get(f"/flows/{fid}").status_code != 200:
            assert time.time() < deadline, "tamsd did not come back after the host answered"
            time.sleep(0.1)
        for _ in range(10):
            assert srv.get("/flows").status_code == 200
    finally:
        proxy.close()
