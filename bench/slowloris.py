#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The two sides of bench/slowloris.sh.

attack: hold up to --conns hostile connections to 127.0.0.1:--port from the --sources addresses
(round robin). --mode trickle sends a request head one byte per --interval seconds (a head
long enough never to finish); --mode halfclose sends half a head and shuts the sending side.
A connection the server closes (refused at its cap, cut at its header deadline, reaped) is
opened again; new connections are opened at most --rate per second. Runs until SIGTERM/SIGINT,
then prints one JSON line: connections opened, refused or closed by the server, peak held.

probe: --count fresh connections from --source, one every 1/--per-second s, each
`GET --path` with `Connection: close`, timed from connect to the end of the response (at most
--timeout s). Prints one JSON line: ok, failed, p50_ms, p99_ms, max_ms, and how many took over
100 ms and over 900 ms (a connection whose SYN met a full listen queue is retried by the kernel
after 1 s, so those are waits for accept, not for an answer).
"""
import argparse
import errno
import json
import selectors
import signal
import socket
import time

HEAD = (b"GET /flows HTTP/1.1\r\nHost: tamsd\r\nUser-Agent: slowloris\r\nAccept: */*\r\n"
        + b"".join(b"X-Slow-%d: %s\r\n" % (i, b"a" * 40) for i in range(200)) + b"\r\n")
HALF = b"GET /flows HTTP/1.1\r\nHost: tamsd\r\nX-Half: "


def attack(a):
    sel = selectors.DefaultSelector()
    conns = {}  # fd -> [socket, bytes sent]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    stats = {"opened": 0, "connect_failed": 0, "closed_by_server": 0, "peak_held": 0,
             "mode": a.mode, "sources": a.sources, "target": a.conns}
    sources = a.sources.split(",")
    next_src = 0
    budget, last = 0.0, time.monotonic()
    next_tick = time.monotonic()

    def drop(fd):
        s = conns.pop(fd)[0]
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        stats["closed_by_server"] += 1

    while not stop:
        now = time.monotonic()
        budget = min(budget + (now - last) * a.rate, a.rate)
        last = now
        # Open what is missing, within the rate.
        while len(conns) < a.conns and budget >= 1:
            budget -= 1
            s = socket.socket()
            s.setblocking(False)
            try:
                s.bind((sources[next_src % len(sources)], 0))
                next_src += 1
                s.connect_ex(("127.0.0.1", a.port))
            except OSError:
                stats["connect_failed"] += 1
                s.close()
                break
            conns[s.fileno()] = [s, 0]
            sel.register(s, selectors.EVENT_READ)
            stats["opened"] += 1
            if a.mode == "halfclose":
                # connect_ex returned EINPROGRESS: the bytes go once it is established.
                conns[s.fileno()][1] = -1
        stats["peak_held"] = max(stats["peak_held"], len(conns))
        # A byte each (trickle), or the half head and the FIN (halfclose, once).
        if now >= next_tick:
            next_tick = now + a.interval
            for fd, c in list(conns.items()):
                s, sent = c
                try:
                    if a.mode == "trickle":
                        s.send(HEAD[sent % len(HEAD):sent % len(HEAD) + 1])
                        c[1] = sent + 1
                    elif sent == -1:
                        s.send(HALF)
                        s.shutdown(socket.SHUT_WR)
                        c[1] = len(HALF)
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno in (errno.ENOTCONN,):
                        continue  # still connecting
                    drop(fd)
        # Whatever the server sends means it is done with us (an answer, EOF or a reset).
        for key, _ in sel.select(timeout=0.01):
            fd = key.fd
            if fd not in conns:
                continue
            try:
                conns[fd][0].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                pass
            drop(fd)
    for c in conns.values():
        c[0].close()
    print(json.dumps(stats), flush=True)


def probe(a):
    lat, failed = [], 0
    req = f"GET {a.path} HTTP/1.1\r\nHost: tamsd\r\nConnection: close\r\n\r\n".encode()
    start = time.monotonic()
    for i in range(a.count):
        due = start + i / a.per_second
        time.sleep(max(0.0, due - time.monotonic()))
        t0 = time.monotonic()
        try:
            with socket.socket() as s:
                s.settimeout(a.timeout)
                s.bind((a.source, 0))
                s.connect(("127.0.0.1", a.port))
                s.sendall(req)
                buf = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            if not buf.startswith(b"HTTP/1.1 200 "):
                raise OSError("answer: %r" % buf[:40])
            lat.append((time.monotonic() - t0) * 1000)
        except OSError:
            failed += 1
    lat_sorted = sorted(lat)

    def pct(p):
        if not lat_sorted:
            return None
        return round(lat_sorted[min(len(lat_sorted) - 1, int(p / 100 * len(lat_sorted)))], 3)
    print(json.dumps({"ok": len(lat), "failed": failed, "p50_ms": pct(50), "p99_ms": pct(99),
                      "max_ms": round(max(lat), 3) if lat else None,
                      "over_100ms": sum(1 for x in lat if x > 100),
                      "over_900ms": sum(1 for x in lat if x > 900)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    at = sub.add_parser("attack")
    at.add_argument("--port", type=int, required=True)
    at.add_argument("--conns", type=int, default=10000)
    at.add_argument("--sources", default="127.0.0.1")
    at.add_argument("--mode", choices=("trickle", "halfclose"), default="trickle")
    at.add_argument("--interval", type=float, default=1.0)
    at.add_argument("--rate", type=float, default=2000)
    pr = sub.add_parser("probe")
    pr.add_argument("--port", type=int, required=True)
    pr.add_argument("--source", default="127.0.0.2")
    pr.add_argument("--path", default="/flows")
    pr.add_argument("--count", type=int, default=200)
    pr.add_argument("--per-second", type=float, default=10)
    pr.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    attack(a) if a.cmd == "attack" else probe(a)


if __name__ == "__main__":
    main()
