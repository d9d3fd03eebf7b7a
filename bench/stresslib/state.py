# SPDX-License-Identifier: Apache-2.0
"""The store's state as the driver knows it: the live flows (Flow, Pool: readers hold a
flow so it is never deleted under them) and the webhook events its writes must cause (Expect)."""
import collections
import json
import threading
import time
import uuid

from .common import EVENTS, SEG_S, SOME_EVENTS, tr


class Flow:
    def __init__(self, slot, gen, base_s, codec, width):
        self.id = str(uuid.uuid4())
        self.source_id = str(uuid.uuid4())
        self.slot, self.gen = slot, gen
        self.base = base_s          # media time of segment 0, in TAI seconds
        self.codec, self.width = codec, width
        self.born = time.monotonic()
        self.first_kept = 0         # segments [first_kept, registered) exist in the store
        self.registered = 0
        self.objects = []           # allocated, not yet used (put_url documents)
        self.pending = None         # an uploaded object whose registration failed: retried
        self.users = 0
        self.retired = False

    def seg_tr(self, i, n=1):
        return tr(self.base + SEG_S * i, self.base + SEG_S * (i + n))

    def doc(self, run_tag):
        return json.dumps({
            "id": self.id, "source_id": self.source_id, "format": "urn:x-nmos:format:video",
            "codec": self.codec, "container": "video/mp2t",
            "label": "stress live %d.%d" % (self.slot, self.gen),
            "tags": {"stress": run_tag, "slot": str(self.slot)},
            "essence_parameters": {"frame_width": self.width,
                                   "frame_height": self.width * 9 // 16,
                                   "frame_rate": {"numerator": 50, "denominator": 1}}})


class Pool:
    """The live flows. Readers acquire a flow so that it is never deleted under them."""

    def __init__(self):
        self.cond = threading.Condition()
        self.live = []

    def add(self, f):
        with self.cond:
            self.live.append(f)

    def acquire(self, rnd):
        with self.cond:
            if not self.live:
                return None
            f = rnd.choice(self.live)
            f.users += 1
            return f

    def acquire_all(self):
        with self.cond:
            fs = list(self.live)
            for f in fs:
                f.users += 1
            return fs

    def release(self, f):
        with self.cond:
            f.users -= 1
            if f.users == 0:
                self.cond.notify_all()

    def retire(self, f):
        with self.cond:
            f.retired = True
            self.live.remove(f)
            while f.users:
                self.cond.wait()


class Expect:
    """Events the driver's successful writes must produce, per webhook path and flow/source."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by = collections.defaultdict(list)  # (path, key) -> [(type, timerange or None)]
        self.total = collections.Counter()

    def add(self, etype, key, trange=None):
        with self.lock:
            for path, types in (("/all", EVENTS), ("/some", SOME_EVENTS)):
                if etype in types:
                    self.by[(path, key)].append((etype, trange))
                    self.total[path] += 1
