# SPDX-License-Identifier: Apache-2.0
"""The connection guard over real sockets: caps on connections (global and per client address),
the request-head deadline that a trickle of bytes does not extend, prompt reaping of half-closed
connections, and the metrics that count them (docs/configuration.md, "Connections")."""
import json
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, SANITIZER_MARKERS, free_port, tamsd_env, validate

OTHER = "127.0.0.2"  # a second client address on the loopback interface


def connect(server, src="127.0.0.1", timeout=10):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", server.port))
    return s


def read_response(s):
    """One response (status, headers, body) from a keep-alive socket."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response: %r" % buf)
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(headers.get("content-length", 0))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body[:n]


def get(s, path="/health"):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return read_response(s)


def read_all(s):
    """Everything until the server closes (a reset counts as closed)."""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return out
        if not chunk:
            return out
        out += chunk


def refused(s, timeout=5):
    """The server closed the connection without answering a request sent on it."""
    s.settimeout(timeout)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        return True
    return read_all(s) == b""


def check_raw_error(resp, status):
    """A raw response: `status`, the spec's error body, and the connection closed."""
    head, body = resp.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 %d " % status), resp[:200]
    assert b"content-type: application/json" in head.lower()
    doc = json.loads(body)
    validate(doc, "error.json")
    assert doc["summary"].strip()
    return doc


def metrics(server):
    """GET /metrics from the second address (so it counts against no per-address cap): name ->
    value. The server closes that connection, and has let go of it when this returns."""
    with connect(server, OTHER) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, _, body = read_response(s)
        read_all(s)
    time.sleep(0.05)  # the server releases a connection in the loop turn after closing it
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_open(server, n, timeout=10):
    """Wait until the server holds n connections besides the one asking. Connections a test
    just closed may still count against a cap for a moment (the server lets go of them in a
    later loop turn), so the asking connection itself may be refused meanwhile: ask again.
    Returns how many of its own connections were refused (the server counts them too)."""
    deadline = time.time() + timeout
    refused_here = 0
    while True:
        try:
            v = metrics(server)["tams_http_connections"] - 1
        except ConnectionError:
            if time.time() > deadline:
                raise
            refused_here += 1
            v = None
        if v == n or time.time() > deadline:
            assert v == n, v
            return refused_here
        time.sleep(0.05)


REFUSED_ADDR = 'tams_http_connections_refused_total{reason="max_connections_per_address"}'
REFUSED_ALL = 'tams_http_connections_refused_total{reason="max_connections"}'
CLOSED_LATE = 'tams_http_connections_closed_total{reason="header_timeout"}'
CLOSED_HALF = 'tams_http_connections_closed_total{reason="half_closed"}'


def test_per_address_cap_leaves_other_addresses_served(make_server):
    srv = make_server(args=["--max-connections-per-address", "3"])
    wait_open(srv, 0)
    before = metrics(srv)
    held = [connect(srv) for _ in range(3)]
    for s in held:
        assert get(s)[0] == 200  # admitted, and kept alive
    extra = connect(srv)
    assert refused(extra)
    extra.close()
    # Another address is still served, while the first stays at its cap.
    with connect(srv, OTHER) as s:
        assert get(s, "/service")[0] == 200
    after = metrics(srv)
    assert after[REFUSED_ADDR] == before[REFUSED_ADDR] + 1
    assert after[REFUSED_ALL] == before[REFUSED_ALL]
    # A place freed is a place again.
    held.pop().close()
    wait_open(srv, 2)
    with connect(srv) as s:
        assert get(s)[0] == 200
    for s in held:
        s.close()


def test_global_cap_refuses_at_accept(make_server):
    srv = make_server(args=["--max-connections", "4", "--max-connections-per-address", "0"])
    wait_open(srv, 0)
    before = metrics(srv)
    held = [connect(srv) for _ in range(4)]
    for s in held:
        assert get(s)[0] == 200
    for src in ("127.0.0.1", OTHER):
        s = connect(srv, src)
        assert refused(s)
        s.close()
    for s in held:
        s.close()
    probes_refused = wait_open(srv, 0)
    after = metrics(srv)
    assert after[REFUSED_ALL] == before[REFUSED_ALL] + 2 + probes_refused
    assert after[REFUSED_ADDR] == before[REFUSED_ADDR]


def test_trickled_head_is_cut_at_the_header_deadline(make_server):
    srv = make_server(args=["--header-timeout", "2"])
    before = metrics(srv)
    head = b"GET /flows HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 60 + b"\r\n\r\n"
    s = connect(srv)
    s.settimeout(0.1)
    start = time.time()
    got = b""
    closed_at = None
    # A byte every 0.1 s (about 9 s for the head; every byte is activity): the deadline holds.
    for i in range(len(head)):
        try:
            s.send(head[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.time()
            break
        try:
            chunk = s.recv(65536)
            if not chunk:
                closed_at = time.time()
                break
            got += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed_at = time.time()
            break
    s.close()
    assert closed_at is not None, "the trickling connection was never closed"
    assert 1.8 <= closed_at - start <= 4, closed_at - start
    doc = check_raw_error(got, 408)
    assert doc["type"] == "RequestTimeout" and "header_timeout" in doc["summary"]
    assert metrics(srv)[CLOSED_LATE] == before[CLOSED_LATE] + 1


def test_silent_connection_is_closed_at_the_header_deadline(make_server):
    srv = make_server(args=["--header-timeout", "1", "--connection-timeout", "30"])
    s = connect(srv)
    start = time.time()
    assert read_all(s) == b""  # nothing was sent, so no answer: just closed
    assert time.time() - start < 3
    s.close()


def test_deadline_ends_with_the_head(make_server):
    """The header deadline covers the head only: a body may come later (within the idle timeout),
    and a kept-alive connection may wait before its next request."""
    srv = make_server(args=["--header-timeout", "1"])
    s = connect(srv)
    s.sendall(b"POST /service HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 25\r\n\r\n")
    time.sleep(1.6)
    s.sendall(b'{"name": "after a pause"}')
    status, _, _ = read_response(s)
    assert status == 200
    time.sleep(1.6)
    assert get(s, "/service")[0] == 200
    s.close()


def test_next_head_on_a_kept_alive_connection_has_a_deadline(make_server):
    srv = make_server(args=["--connection-timeout", "2", "--header-timeout", "10"])
    s = connect(srv)
    assert get(s)[0] == 200
    start = time.time()
    s.settimeout(0.2)
    got = b""
    closed = False
    for b in b"GET /flows HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"b" * 100:
        try:
            s.send(bytes([b]))
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    s.close()
    assert closed and time.time() - start < 6, time.time() - start
    doc = check_raw_error(got, 408)
    assert "connection_timeout" in doc["summary"]


def test_half_closed_partial_head_is_reaped(make_server):
    srv = make_server()
    before = metrics(srv)
    start = time.time()
    socks = []
    for _ in range(5):
        s = connect(srv)
        # Corked, the partial head and the FIN leave in one segment, which libmicrohttpd 0.9.75
        # reads without noticing the FIN: without the guard it keeps the connection 30 s.
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        s.send(b"GET /flows HTTP/1.1\r\nHost: x\r\nX-Half: ")
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    for s in socks:
        check_raw_error(read_all(s), 400)
        s.close()
    assert time.time() - start < 2.5
    wait_open(srv, 0, timeout=3)
    assert metrics(srv)[CLOSED_HALF] >= before[CLOSED_HALF] + 5


def test_half_closed_complete_request_is_served(make_server):
    """A request sent whole before the client shuts its side is answered, then the connection
    goes promptly."""
    srv = make_server()
    for body in (b"GET /service HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"POST /service HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 21\r\n\r\n{\"name\": \"half-shut\"}"):
        s = connect(srv)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        s.send(body)
        s.shutdown(socket.SHUT_WR)
        start = time.time()
        resp = read_all(s)
        s.close()
        assert resp.startswith(b"HTTP/1.1 200 "), resp[:200]
        assert time.time() - start < 2.5
    assert srv.get("/service").json()["name"] == "half-shut"


@pytest.mark.parametrize("n", [200])
def test_many_slow_connections_do_not_starve_others(make_server, n):
    """A moderate slowloris from one address: past its cap it is refused, the rest trickle, and
    a client at another address is answered at once throughout."""
    srv = make_server(args=["--max-connections-per-address", "50", "--header-timeout", "3"])
    slow = []
    for _ in range(n):
        try:
            s = connect(srv, timeout=2)
            s.setblocking(False)
            s.send(b"GET /flows HTTP/1.1\r\n")
            slow.append(s)
        except OSError:
            pass
    worst = 0.0
    for _ in range(20):
        for s in slow:
            try:
                s.send(b"X")
            except OSError:
                pass
        start = time.time()
        with connect(srv, OTHER) as c:
            assert get(c, "/flows")[0] == 200
        worst = max(worst, time.time() - start)
        time.sleep(0.1)
    for s in slow:
        s.close()
    assert worst < 1.0, worst
    m = metrics(srv)
    assert m[REFUSED_ADDR] >= n - 50


def test_requests_at_start_find_the_server_whole(tmpdir_path):
    """A request that waits at the port while tamsd starts is answered once it is accepted.
    libmicrohttpd's threads serve as soon as each exists, while the start is still making the
    next: everything a request reaches (the metrics, the listen address for a request without
    Host) must be in place before. A client knocks until the port listens, so its requests wait
    in the backlog for the first thread; several starts, since the window is a thread's start."""
    env = tamsd_env()
    for n in range(12):
        port = free_port()
        answers = []
        gone = threading.Event()

        def knock():
            deadline = time.time() + 30
            while time.time() < deadline and not gone.is_set():
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                except OSError:
                    time.sleep(0.0005)
                    continue
                with s:
                    # Two requests on one connection: the metrics, then one without Host
                    # whose links name the listen address.
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /flows?limit=1 HTTP/1.0\r\n\r\n")
                    answers.append(read_all(s))
                return

        t = threading.Thread(target=knock)
        t.start()
        log = tmpdir_path / f"start{n}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{port}", "--data-dir",
                                     str(tmpdir_path / f"start{n}"), "--threads", "2"],
                                    stdout=subprocess.DEVNULL, stderr=err, env=env)
            while t.is_alive() and proc.poll() is None:
                t.join(0.1)
            alive = proc.poll() is None
            gone.set()
            t.join()
            proc.terminate()
            rc = proc.wait(60)
        text = log.read_text()
        if not alive and "Address already in use" in text:
            continue  # another test took the port meanwhile: the knocks went elsewhere
        assert alive and rc == 0, f"start {n}: tamsd exited {rc}:\n{text}"
        assert not any(m in text for m in SANITIZER_MARKERS), text
        assert answers, f"start {n}: the knocking client never connected"
        first, _, second = answers[0].partition(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 200 "), answers[0][:300]
        assert b"HTTP/1.0 200 " in second or b"HTTP/1.1 200 " in second, answers[0][-600:]
