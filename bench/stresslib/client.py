# SPDX-License-Identifier: Apache-2.0
"""HTTP for the driver: persistent connections that never raise, and the recorder every
request's latency and outcome go to (timed() does both)."""
import array
import collections
import http.client
import sys
import threading
import time

from .common import OPS


class Conn:
    """One persistent connection. request() never raises for transport errors: it returns
    status 0 and the error's name, so the caller counts it."""

    IDLE_RECONNECT_S = 20.0  # tamsd closes idle connections after connection_timeout (30 s)

    def __init__(self, host, port, timeout=60):
        self.host, self.port, self.timeout = host, port, timeout
        self.c = None
        self.last = 0.0

    def _open(self):
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None):
        if self.c is None or time.monotonic() - self.last > self.IDLE_RECONNECT_S:
            if self.c is not None:
                self.c.close()
            self._open()
        hdrs = dict(headers or {})
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        try:
            self.c.request(method, path, body=body, headers=hdrs)
            r = self.c.getresponse()
            data = r.read()
            self.last = time.monotonic()
            if r.will_close:
                self.c.close()
                self.c = None
            return r.status, data
        except (OSError, http.client.HTTPException) as e:
            self.c.close()
            self.c = None
            return 0, type(e).__name__.encode()


class Clients:
    """This thread's connections, one per host:port (tamsd, or a put_url's host)."""

    def __init__(self):
        self.by = {}

    def get(self, host, port):
        key = (host, port)
        if key not in self.by:
            self.by[key] = Conn(host, port)
        return self.by[key]


# ---- recording ----------------------------------------------------------------------------------


class Recorder:
    """Per operation: end times and latencies (append-only arrays, read by the sampler with a
    cursor), and error counts by reason."""

    def __init__(self, t0):
        self.t0 = t0
        self.t = {op: array.array("d") for op in OPS}
        self.lat = {op: array.array("d") for op in OPS}
        self.err_t = {op: array.array("d") for op in OPS}
        self.errors = {op: collections.Counter() for op in OPS}
        self.notes = collections.Counter()  # things worth reporting that are not errors
        self.lock = threading.Lock()

    def ok(self, op, start, end):
        self.t[op].append(end - self.t0)
        self.lat[op].append((end - start) * 1000.0)

    def error(self, op, start, end, reason):
        self.t[op].append(end - self.t0)
        self.lat[op].append((end - start) * 1000.0)
        self.err_t[op].append(end - self.t0)
        with self.lock:
            self.errors[op][reason] += 1


def classify(status, body, expected):
    """None when status is expected, else an error reason."""
    if status in expected:
        return None
    if status == 0:
        return "transport: " + body.decode(errors="replace")
    if status >= 500:
        return "HTTP %d (5xx)" % status
    return "HTTP %d (unexpected)" % status


def timed(rec, cl, op, method, path, expected, body=None, headers=None, host=None):
    conn = cl.get(*host) if host else cl.tams
    start = time.perf_counter()
    status, data = conn.request(method, path, body, headers)
    end = time.perf_counter()
    why = classify(status, data, expected)
    if why is None:
        rec.ok(op, start, end)
    else:
        rec.error(op, start, end, why)
        if len(rec.err_t[op]) <= 5:  # the first few of each operation, with the answer
            sys.stderr.write("stress: %s %s %s -> %s %s\n" % (op, method, path[:120], status,
                                                              data[:300].decode(errors="replace")))
    return status, data, why is None
