#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The requests the web interface's timeline makes for one flow (docs/ui.md), timed.

For each flow given, one "open" is what web/js/flow.js and timeline.js ask for when the flow
page opens and the user zooms to a window of WINDOW segments:
  GET /flows/{id}, GET /analytics/flows/{id}, every page of GET /analytics/flows/{id}/gaps
  (limit 1000, at most 10 pages), and GET /flows/{id}/segments?timerange=<a window of WINDOW
  segments in the middle>&limit=1000&accept_get_urls= .
Flows are interleaved round by round on one persistent connection; prints one JSON object with
each flow's median milliseconds per open and per request, and the bytes of one open.
With --browser (python3-selenium, chromium-driver), also the wall time in headless Chromium from
loading /ui/#/flows/{id} to the timeline drawn and the first 50 segments listed, median of
--browser-rounds.
Only the standard library (and selenium for --browser); stays on the URL it is given."""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def ts(s):
    neg = s.startswith("-")
    a, b = s.lstrip("-").split(":")
    v = int(a) + int(b) / 1e9
    return -v if neg else v


def fmt(x):
    s = int(x)
    return f"{s}:{int(round((x - s) * 1e9))}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--flow", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--browser-rounds", type=int, default=7)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

    def get(path):
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"GET {path}: {r.status} {body[:200]!r}")
        return r, body

    plans = {}
    for fid in a.flow:
        _, body = get(f"/analytics/flows/{fid}")
        st = json.loads(body)
        lo, hi = (ts(x) for x in st["timerange"][1:-1].split("_"))
        per = (hi - lo) / st["segment_count"]
        mid = (lo + hi) / 2
        win = (mid - per * a.window / 2, mid + per * a.window / 2)
        plans[fid] = {"segments": st["segment_count"], "window": f"[{fmt(win[0])}_{fmt(win[1])})"}

    def open_flow(fid):
        times, nbytes, drawn = {}, 0, 0
        t0 = time.perf_counter()
        for name, path in (("flow", f"/flows/{fid}"), ("analytics", f"/analytics/flows/{fid}")):
            t = time.perf_counter()
            _, body = get(path)
            times[name] = time.perf_counter() - t
            nbytes += len(body)
        page, t = None, time.perf_counter()
        for _ in range(10):
            r, body = get(f"/analytics/flows/{fid}/gaps?limit=1000" + (f"&page={page}" if page else ""))
            nbytes += len(body)
            page = r.getheader("X-Paging-NextKey")
            if not page:
                break
        times["gaps"] = time.perf_counter() - t
        t = time.perf_counter()
        q = urllib.parse.urlencode({"timerange": plans[fid]["window"], "limit": 1000, "accept_get_urls": ""})
        _, body = get(f"/flows/{fid}/segments?{q}")
        times["window"] = time.perf_counter() - t
        drawn = len(json.loads(body))
        nbytes += len(body)
        times["open"] = time.perf_counter() - t0
        return times, nbytes, drawn

    for fid in a.flow:  # warm-up
        open_flow(fid)
    samples = {fid: [] for fid in a.flow}
    info = {}
    for _ in range(a.rounds):
        for fid in a.flow:
            times, nbytes, drawn = open_flow(fid)
            samples[fid].append(times)
            info[fid] = {"bytes": nbytes, "window_segments": drawn}
    out = {}
    for fid in a.flow:
        med = {k: round(statistics.median(s[k] for s in samples[fid]) * 1000, 3) for k in samples[fid][0]}
        out[fid] = {"segments": plans[fid]["segments"], **info[fid], "median_ms": med}
    if a.browser:
        for fid, ms in browser_opens(a.url, a.flow, a.browser_rounds).items():
            out[fid]["browser_open_ms"] = ms
    print(json.dumps(out))


def browser_opens(url, flows, rounds):
    """Median ms from navigation to the flow page's timeline drawn and segment list shown."""
    import shutil
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        drv.get(url + "/ui/")
        # the bench's tamsd has no credentials: any token signs in
        drv.execute_script("sessionStorage.setItem('tamsd.credentials',"
                           " JSON.stringify({kind: 'bearer', token: 'bench', who: 'bench'}))")
        times = {fid: [] for fid in flows}
        for r in range(rounds + 1):
            for fid in flows:
                drv.get("about:blank")
                t = time.perf_counter()
                drv.get(f"{url}/ui/#/flows/{fid}")
                while not drv.execute_script(
                        "const i = document.getElementById('timeline-info');"
                        "return i && /requests made/.test(i.textContent) &&"
                        " document.querySelectorAll('#segments tr').length > 1"):
                    time.sleep(0.005)
                if r:  # the first round warms up
                    times[fid].append(time.perf_counter() - t)
        return {fid: round(statistics.median(v) * 1000, 1) for fid, v in times.items()}
    finally:
        drv.quit()


if __name__ == "__main__":
    main()
