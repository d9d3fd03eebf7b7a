# SPDX-License-Identifier: Apache-2.0
"""What every part of the stress driver shares: the operations in report order, the
scales, the event types, and small helpers on timeranges and statistics."""
import collections
import math
import time


EVENTS = ["flows/created", "flows/updated", "flows/deleted", "flows/segments_added",
          "flows/segments_deleted", "sources/created", "sources/updated", "sources/deleted"]
SOME_EVENTS = ["flows/created", "flows/deleted", "flows/segments_deleted"]
TAI_OFFSET = 37  # TAI - UTC in seconds, so the timeline looks like live TAI timestamps
SEG_S = 2        # segment duration on the media timeline
WINDOW_S = 10    # editors' window

# Operations in report order: name -> what it is.
OPS = collections.OrderedDict([
    ("flow_create", "PUT /flows/{id} (a new live flow)"),
    ("storage_alloc", "POST /flows/{id}/storage"),
    ("object_put", "PUT put_url (a few bytes)"),
    ("segment_register", "POST /flows/{id}/segments (one segment)"),
    ("segments_window", "GET /flows/{id}/segments?timerange=<10 s>"),
    ("flow_get", "GET /flows/{id}"),
    ("source_get", "GET /sources/{id}"),
    ("flow_tag_put", "PUT /flows/{id}/tags/edited"),
    ("flows_list", "GET /flows?<filters>"),
    ("segments_delete", "DELETE /flows/{id}/segments?timerange=<oldest>"),
    ("flow_delete", "DELETE /flows/{id} (slot rotation)"),
    ("metrics", "GET /metrics (the sampler)"),
])

SCALES = {
    # flows, speed, editors, listers, lifetime s, keep s, trim-every s, static flows, sample s
    "tiny": dict(flows=4, speed=5.0, editors=2, listers=1, lifetime=6.0, keep=8.0,
                 trim_every=1.0, static_flows=50, sample_every=1.0, think=0.01),
    "small": dict(flows=8, speed=2.0, editors=4, listers=1, lifetime=120.0, keep=60.0,
                  trim_every=5.0, static_flows=500, sample_every=2.0, think=0.01),
    "medium": dict(flows=32, speed=2.0, editors=6, listers=2, lifetime=600.0, keep=300.0,
                   trim_every=10.0, static_flows=5000, sample_every=5.0, think=0.01),
    "large": dict(flows=100, speed=1.0, editors=8, listers=2, lifetime=1800.0, keep=600.0,
                  trim_every=20.0, static_flows=20000, sample_every=10.0, think=0.005),
}


def now_tai_s():
    return int(time.time()) + TAI_OFFSET


def tr(lo_s, hi_s):
    return "[%d:0_%d:0)" % (lo_s, hi_s)


def tr_lo(text):
    """Seconds of a timerange's start, e.g. '[12:0_14:0)' -> 12 (None if unbounded)."""
    t = text.lstrip("[(").split("_")[0]
    if not t:
        return None
    return int(t.split(":")[0])


def pct(sorted_vals, q):
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(math.ceil(q / 100.0 * len(sorted_vals))) - 1))
    return sorted_vals[k]


def linfit(xs, ys):
    """Least-squares slope and intercept, or (nan, nan) with fewer than 3 points."""
    pts = [(x, y) for x, y in zip(xs, ys) if y == y]
    if len(pts) < 3:
        return float("nan"), float("nan")
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return float("nan"), float("nan")
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    return slope, my - slope * mx
