# SPDX-License-Identifier: Apache-2.0
"""The web interface at /ui/ (docs/ui.md): its files and headers over HTTP, then its pages in a
real headless Chromium (python3-selenium, chromium-driver) against a real tamsd holding real
H.264 and AAC segments made by ffmpeg. A screenshot of each page is kept under the build
directory (ui-screenshots/, beside the tamsd under test; the path is printed)."""
import json
import pathlib
import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests

from conftest import BIN, check_error
from test_auth import add_token, add_user, start_auth_server

VIDEO, AUDIO = "urn:x-nmos:format:video", "urn:x-nmos:format:audio"
SEG = 2          # seconds per segment
NSEG = 8         # segments made; the one at MISSING is left out, a gap of [10:0_12:0)
MISSING = 5
MANY = 3000      # one-second segments of the other flow, less MANY_GAPS
MANY_GAPS = (100, 2000, 2001)
SHOTS = pathlib.Path(BIN).resolve().parent / "ui-screenshots"

have_browser = shutil.which("chromium") and shutil.which("chromedriver")
have_ffmpeg = shutil.which("ffmpeg")


def ffmpeg_segments(out, kind):
    """NSEG MPEG-TS segments of SEG seconds: H.264 (a keyframe at each start) or AAC."""
    out.mkdir()
    if kind == "video":
        src = ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={SEG * NSEG}",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-g", str(25 * SEG), "-keyint_min", str(25 * SEG), "-sc_threshold", "0"]
    else:
        src = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SEG * NSEG}",
               "-c:a", "aac", "-b:a", "96k"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *src, "-f", "segment",
                    "-segment_time", str(SEG), "-segment_format", "mpegts", "-reset_timestamps", "0",
                    str(out / "s%03d.ts")], check=True, timeout=120)
    files = sorted(out.glob("s*.ts"))
    # AAC frames (1024 samples) do not end on 2 s, so audio leaves a short last file
    assert len(files) >= NSEG, files
    return files[:NSEG]


def put_flow(srv, auth, doc):
    r = srv.put(f"/flows/{doc['id']}", json=doc, **auth)
    assert r.status_code == 201, r.text


def put_segments(srv, auth, fid, files, skip=()):
    """Upload each file through the built-in store and register it at [i*SEG_(i+1)*SEG)."""
    wanted = [i for i in range(len(files)) if i not in skip]
    r = srv.post(f"/flows/{fid}/storage", json={"limit": len(wanted)}, **auth)
    assert r.status_code == 201, r.text
    segs = []
    for i, obj in zip(wanted, r.json()["media_objects"]):
        put = obj["put_url"]
        u = srv.session.put(put["url"], data=files[i].read_bytes(),
                            headers={"Content-Type": put["content-type"]}, timeout=30)
        assert u.status_code == 200, u.text
        segs.append({"object_id": obj["object_id"], "timerange": f"[{i * SEG}:0_{(i + 1) * SEG}:0)"})
    r = srv.post(f"/flows/{fid}/segments", json=segs, **auth)
    assert r.status_code in (200, 201), r.text


@pytest.fixture(scope="module", params=["7.0", "8.2"])
def ui(tmp_path_factory, request):
    """A tamsd with credentials, a video flow and an audio flow of real media (the video with a
    segment left out), and a second video flow for paging. A source has one format, so each
    flow has its own source. Every test runs twice: with the root serving TAMS 7.0 (the
    default) and 8.2 (root_api_version), the API the interface talks to."""
    tmp = tmp_path_factory.mktemp("ui")
    data = tmp / "data"
    admin = add_token(data, "ui-admin", "read,write,delete,admin")
    reader = add_token(data, "ui-reader", "read")
    add_user(data, "ui-user", "read,write", "ui-password-1")
    srv, _ = start_auth_server(tmp, args=["--root-api-version", request.param,
                                          "--webhooks-allow-private", "true"], with_creds=False)
    srv.version = request.param
    srv.base_path = ""  # the page talks to the root, so do the tests (whatever TAMS_TEST_BASE_PATH)
    auth = {"headers": {"Authorization": "Bearer " + admin}}
    sid = str(uuid.uuid4())
    video = {"id": str(uuid.uuid4()), "source_id": sid, "format": VIDEO, "codec": "video/h264",
             "container": "video/mp2t", "label": "ui video", "tags": {"genre": "test"},
             "essence_parameters": {"frame_width": 320, "frame_height": 240,
                                    "frame_rate": {"numerator": 25, "denominator": 1}}}
    audio = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": AUDIO, "codec": "audio/aac",
             "container": "video/mp2t", "label": "ui audio",
             "essence_parameters": {"sample_rate": 48000, "channels": 1}}
    other = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": VIDEO,
             "codec": "video/h264", "container": "video/mp2t", "label": "ui other",
             "essence_parameters": {"frame_width": 320, "frame_height": 240,
                                    "frame_rate": {"numerator": 1, "denominator": 1}}}
    for doc in (video, audio, other):
        put_flow(srv, auth, doc)
    if have_ffmpeg:
        put_segments(srv, auth, video["id"], ffmpeg_segments(tmp / "v", "video"), skip=(MISSING,))
        put_segments(srv, auth, audio["id"], ffmpeg_segments(tmp / "a", "audio"))
    # many short segments on the other flow: more than the timeline fetches for one window
    segs = [{"object_id": f"ext-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
             "get_urls": [{"url": f"http://media.example.com/{i}.ts", "label": "ext"}]}
            for i in range(MANY) if i not in MANY_GAPS]
    r = srv.post(f"/flows/{other['id']}/segments", json=segs, **auth)
    assert r.status_code in (200, 201), r.text
    srv.ctx = {"admin": admin, "reader": reader, "auth": auth, "video": video, "audio": audio,
               "other": other, "source": sid}
    yield srv
    srv.stop()


# --- the files, over HTTP -------------------------------------------------------------------

CSP_PARTS = ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'")


@pytest.mark.parametrize("path,ctype", [("/ui/", "text/html"), ("/ui/index.html", "text/html"),
                                        ("/ui/ui.css", "text/css"),
                                        ("/ui/js/app.js", "text/javascript")])
def test_files_types_and_headers(ui, path, ctype):
    r = requests.get(ui.url + path, timeout=10)  # no credentials: the files are public
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(ctype)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-cache"
    for part in CSP_PARTS:
        assert part in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert int(r.headers["Content-Length"]) == len(r.content) > 0
    etag = r.headers["ETag"]
    again = requests.get(ui.url + path, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    for inm in (f'"x", {etag}', f"W/{etag}", "*"):
        assert requests.get(ui.url + path, headers={"If-None-Match": inm}, timeout=10).status_code == 304
    stale = requests.get(ui.url + path, headers={"If-None-Match": f'"x", "y", {etag[:-2]}"'}, timeout=10)
    assert stale.status_code == 200 and stale.content == r.content


def test_csp_lets_the_player_reach_s3_backends(make_server, tmp_path):
    """Segments on S3 come from the backends' own origins (path-style: the endpoint; virtual:
    the bucket's host): the policy names exactly those, for fetches and media, and no other."""
    conf = tmp_path / "storage.json"
    conf.write_text(json.dumps({"backends": [
        {"id": str(uuid.uuid4()), "label": "a", "type": "s3", "bucket": "tams-b1",
         "endpoints": ["http://127.0.0.1:9", "https://s3.example.com:8443"],
         "access_key": "k", "secret_key": "s"},
        {"id": str(uuid.uuid4()), "label": "v", "type": "s3", "bucket": "media",
         "addressing": "virtual", "endpoints": ["https://store.example.net"],
         "access_key": "k", "secret_key": "s"}]}))
    srv = make_server(args=["--storage-config", str(conf)])
    csp = requests.get(srv.url + "/ui/", timeout=10).headers["Content-Security-Policy"]
    origins = "'self' http://127.0.0.1:9 https://s3.example.com:8443 https://media.store.example.net"
    assert f"connect-src {origins};" in csp, csp
    assert f"media-src 'self' blob: {origins[len(chr(39) + 'self' + chr(39)) + 1:]};" in csp, csp
    plain = make_server()
    csp = requests.get(plain.url + "/ui/", timeout=10).headers["Content-Security-Policy"]
    assert "connect-src 'self';" in csp and "media-src 'self' blob:;" in csp, csp


def test_files_are_the_repository_files(ui):
    web = pathlib.Path(__file__).resolve().parents[2] / "web"
    for rel in ("index.html", "ui.css", "js/app.js", "js/timeline.js"):
        r = requests.get(f"{ui.url}/ui/{rel}", timeout=10)
        assert r.content == (web / rel).read_bytes(), rel


def test_redirect_missing_file_and_api_still_guarded(ui):
    r = requests.get(ui.url + "/ui", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "/ui/"
    check_error(requests.get(ui.url + "/ui/nope.js", timeout=10), 404)
    check_error(requests.get(ui.url + "/flows", timeout=10), 401)
    check_error(requests.post(ui.url + "/ui/index.html", timeout=10), 405)


def test_html_has_nothing_inline(ui):
    """The CSP allows no inline script or style: the page must not need any."""
    html = requests.get(ui.url + "/ui/", timeout=10).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and not re.search(r"\s(style|on\w+)=", html)


# --- the pages, in Chromium -----------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not have_browser:
        pytest.skip("chromium and chromium-driver are not installed (scripts/deps.sh --test)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1600", "--autoplay-policy=no-user-gesture-required",
              "--mute-audio"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    drv.set_script_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    print(f"\nui screenshots: {SHOTS}")
    yield drv
    drv.quit()


def wait_for(drv, fn, what, timeout=20):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the element may not be there yet
            last = e
        time.sleep(0.1)
    shot(drv, "FAILED-" + re.sub(r"\W+", "-", what))
    logs = drv.get_log("browser")
    raise AssertionError(f"timed out waiting for {what} (last: {last!r}); console: {logs}")


def shot(drv, name):
    drv.save_screenshot(str(SHOTS / f"{name}.png"))


def css(drv, sel):
    return drv.find_elements("css selector", sel)


def sign_in(drv, srv, token=None, basic=None, ok=True):
    """Sign in on the sign-in page; with ok, wait for the flow list it leads to."""
    drv.get(srv.url + "/ui/")
    drv.execute_script("sessionStorage.clear()")
    drv.get(srv.url + "/ui/#/signin")
    wait_for(drv, lambda: css(drv, "#signin-token"), "the sign-in page")
    if token:
        css(drv, "#signin-token input")[0].send_keys(token)
        css(drv, "#signin-token button")[0].click()
    else:
        css(drv, "#signin-basic input[name=username]")[0].send_keys(basic[0])
        css(drv, "#signin-basic input[name=password]")[0].send_keys(basic[1])
        css(drv, "#signin-basic button")[0].click()
    if ok:
        wait_for(drv, lambda: css(drv, "#flows"), "the flow list after signing in")


def page_errors(drv):
    return [e.text for e in css(drv, ".error")]


def test_sign_in_and_flow_list(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    rows = wait_for(browser, lambda: css(browser, f"#flows tr[data-flow-id='{ui.ctx['video']['id']}']"),
                    "the video flow in the flow list")
    assert "ui video" in rows[0].text and "h264" in rows[0].text
    assert not re.search(r"\b(null|undefined)\b", css(browser, "main")[0].text)
    shot(browser, "flows")
    # the credential is in session storage, not in a cookie
    assert ui.ctx["admin"] in browser.execute_script("return sessionStorage.getItem('tamsd.credentials')")
    assert browser.get_cookies() == []


def test_flow_search_and_paging(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.get(ui.url + "/ui/#/flows?label=ui+other")
    wait_for(browser, lambda: len(css(browser, "#flows tr[data-flow-id]")) == 1 and
             ui.ctx["other"]["id"] in css(browser, "#flows tr[data-flow-id]")[0].get_attribute("data-flow-id"),
             "only the flow labelled 'ui other'")
    browser.get(ui.url + "/ui/#/flows?codec=audio%2Faac")
    wait_for(browser, lambda: [r.get_attribute("data-flow-id") for r in css(browser, "#flows tr[data-flow-id]")]
             == [ui.ctx["audio"]["id"]], "only the AAC flow")
    browser.get(ui.url + "/ui/#/flows?tag_name=genre&tag_value=test")
    wait_for(browser, lambda: [r.get_attribute("data-flow-id") for r in css(browser, "#flows tr[data-flow-id]")]
             == [ui.ctx["video"]["id"]], "only the tagged flow")
    # one flow a page: three pages, each a different flow, then back
    browser.get(ui.url + "/ui/#/flows?limit=10")
    browser.get(ui.url + "/ui/#/flows?limit=1")
    seen = []
    for _ in range(3):
        ids = wait_for(browser, lambda: [r.get_attribute("data-flow-id") for r in css(browser, "#flows tr[data-flow-id]")],
                       "a page of flows")
        assert len(ids) == 1
        seen += ids
        nxt = css(browser, ".pager a.next")
        if not nxt:
            break
        nxt[0].click()
        wait_for(browser, lambda: [r.get_attribute("data-flow-id") for r in css(browser, "#flows tr[data-flow-id]")] != ids,
                 "the next page")
    assert sorted(seen) == sorted(ui.ctx[k]["id"] for k in ("video", "audio", "other"))
    assert not css(browser, ".pager a.next")
    css(browser, ".pager a.prev")[0].click()
    wait_for(browser, lambda: [r.get_attribute("data-flow-id") for r in css(browser, "#flows tr[data-flow-id]")] == [seen[1]],
             "the previous page")


def test_wrong_credentials_are_shown(ui, browser):
    sign_in(browser, ui, basic=("ui-user", "not-the-password"), ok=False)
    err = wait_for(browser, lambda: css(browser, ".error"), "the refusal")
    assert "401" in err[0].text
    assert browser.execute_script("return sessionStorage.getItem('tamsd.credentials')") is None
    sign_in(browser, ui, basic=("ui-user", "ui-password-1"))


def open_flow(drv, srv, key="video"):
    drv.get(f"{srv.url}/ui/#/flows/{srv.ctx[key]['id']}")
    wait_for(drv, lambda: css(drv, "#edit-label"), "the flow page")


def gap_list(drv):
    return drv.execute_script("return Array.from(document.querySelectorAll('#gaps li.gap'),"
                              " (g) => [Number(g.dataset.start), Number(g.dataset.end)])")


def pixel(drv, t):
    """The canvas colour at timeline time t, middle of the coverage bar."""
    return drv.execute_script("""
        const c = document.getElementById('timeline-canvas'), t = arguments[0];
        const a = Number(c.dataset.viewStart), b = Number(c.dataset.viewEnd);
        const x = Math.round((t - a) / (b - a) * c.width);
        return Array.from(c.getContext('2d').getImageData(x, 38, 1, 1).data.slice(0, 3));""", t)


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
def test_timeline_shows_the_gap(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    open_flow(browser, ui)
    # the list is redrawn with the canvas: read it in one script, never through stale elements
    wait_for(browser, lambda: gap_list(browser) == [[MISSING * SEG, (MISSING + 1) * SEG]],
             "the gap in the timeline")
    red, green = (0xd1, 0x24, 0x2f), (0x2d, 0xa4, 0x4e)
    assert tuple(pixel(browser, (MISSING + 0.5) * SEG)) == red
    assert tuple(pixel(browser, 1.0)) == green and tuple(pixel(browser, (NSEG - 0.5) * SEG)) == green
    # few segments: the window's segments are fetched and drawn
    wait_for(browser, lambda: "7 segments of this window drawn" in css(browser, "#timeline-info")[0].text,
             "the window's segments")
    # the segment list links each segment's media
    links = wait_for(browser, lambda: css(browser, "#segments a"), "the segment list's links")
    assert len(links) == NSEG - 1
    assert requests.get(links[0].get_attribute("href"), timeout=10).content[:1] == b"\x47"  # TS sync
    browser.execute_script("window.scrollTo(0, document.getElementById('timeline-canvas').offsetTop - 50)")
    shot(browser, "flow")


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
def test_timeline_zoom_asks_only_for_its_window(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    open_flow(browser, ui)
    wait_for(browser, lambda: "segments of this window drawn" in css(browser, "#timeline-info")[0].text, "segments")
    css(browser, ".timeline button")[0].click()  # zoom in: the middle half of the flow
    view = wait_for(browser, lambda: browser.execute_script(
        "const c = document.getElementById('timeline-canvas'); return [Number(c.dataset.viewStart), Number(c.dataset.viewEnd)]"),
        "the zoomed view")
    assert view == [SEG * NSEG / 4, SEG * NSEG * 3 / 4]
    wait_for(browser, lambda: "3 segments of this window drawn" in css(browser, "#timeline-info")[0].text,
             "the segments of the zoomed window only (4:0 to 12:0, less the missing one)")


def test_timeline_of_many_segments_fetches_only_a_window(ui, browser):
    """3,000 segments: the whole flow is drawn from its gaps alone; zoomed in to a quarter, the
    window's 750 segments are fetched (one request), never the whole flow's."""
    sign_in(browser, ui, token=ui.ctx["admin"])
    open_flow(browser, ui, "other")
    info = lambda: css(browser, "#timeline-info")[0].text
    wait_for(browser, lambda: "zoom in to see single segments; 1 requests made" in info(), "the gaps")
    assert gap_list(browser) == [[100, 101], [2000, 2002]]
    assert tuple(pixel(browser, 2001)) == (0xd1, 0x24, 0x2f)
    time.sleep(0.5)
    assert info().endswith("1 requests made")  # nothing else asked for
    css(browser, ".timeline button")[0].click()
    css(browser, ".timeline button")[0].click()
    wait_for(browser, lambda: "segments of this window drawn; 2 requests made" in info(), "the window's segments")
    view = browser.execute_script("const c = document.getElementById('timeline-canvas');"
                                  "return [Number(c.dataset.viewStart), Number(c.dataset.viewEnd)]")
    assert view == [1125, 1875]
    assert info().startswith(f"{MANY - 3} segments, 2 gaps; 750 segments of this window drawn")
    shot(browser, "flow-many-segments")


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
def test_timeline_drag_selects_the_range_played_and_listed(ui, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    sign_in(browser, ui, token=ui.ctx["admin"])
    open_flow(browser, ui)
    wait_for(browser, lambda: css(browser, "#segments tr td"), "the segment list")
    cv = css(browser, "#timeline-canvas")[0]
    browser.execute_script("arguments[0].scrollIntoView()", cv)
    w = cv.size["width"]
    # from a quarter to a half of the 16 s flow: about [4_8)
    x0, x1 = int(w / 4 - w / 2), int(w / 2 - w / 2)
    ActionChains(browser).move_to_element_with_offset(cv, x0, 0).click_and_hold() \
        .move_to_element_with_offset(cv, x1, 0).release().perform()
    text = wait_for(browser, lambda: css(browser, "#range")[0].text != "[0:0_16:0)" and
                    css(browser, "#range")[0].text, "the selected range")
    m = re.fullmatch(r"\[(\d+):(\d+)_(\d+):(\d+)\)", text)
    a, b = int(m[1]) + int(m[2]) / 1e9, int(m[3]) + int(m[4]) / 1e9
    assert abs(a - 4) < 0.2 and abs(b - 8) < 0.2, text
    css(browser, "#tl-zoomsel")[0].click()
    view = browser.execute_script("const c = document.getElementById('timeline-canvas');"
                                  "return [Number(c.dataset.viewStart), Number(c.dataset.viewEnd)]")
    assert abs(view[0] - a) < 1e-6 and abs(view[1] - b) < 1e-6
    [b for b in css(browser, "button") if b.text == "List its segments"][0].click()
    want = [f"[{i * SEG}:0_{(i + 1) * SEG}:0)" for i in range(NSEG)
            if i != MISSING and i * SEG < b and (i + 1) * SEG > a]
    assert "[4:0_6:0)" in want and "[6:0_8:0)" in want
    wait_for(browser, lambda: [r.text.split()[0] for r in css(browser, "#segments tr")[1:]] == want,
             "the selection's segments")
    shot(browser, "flow-selection")


def test_read_only_token_edit_is_refused_in_the_page(ui, browser):
    sign_in(browser, ui, token=ui.ctx["reader"])
    open_flow(browser, ui, "other")
    box = css(browser, "#edit-label input")[0]
    box.clear()
    box.send_keys("renamed by a reader")
    css(browser, "#edit-label button")[0].click()
    err = wait_for(browser, lambda: css(browser, "#edit-label-result .error"), "the refusal")
    assert "403" in err[0].text and "Refused" in err[0].text
    shot(browser, "flow-refused")
    fid = ui.ctx["other"]["id"]
    assert ui.get(f"/flows/{fid}/label", **ui.ctx["auth"]).json() == "ui other"
    # the same edit with the write scope is saved
    sign_in(browser, ui, token=ui.ctx["admin"])
    open_flow(browser, ui, "other")
    box = css(browser, "#edit-label input")[0]
    box.clear()
    box.send_keys("renamed in the ui")
    css(browser, "#edit-label button")[0].click()
    wait_for(browser, lambda: css(browser, "#edit-label-result .ok"), "the saved label")
    assert ui.get(f"/flows/{fid}/label", **ui.ctx["auth"]).json() == "renamed in the ui"
    assert ui.put(f"/flows/{fid}/label", json="ui other", **ui.ctx["auth"]).status_code in (200, 204)


def test_essence_parameters_and_tags_edited_with_write_scope(ui, browser):
    fid = ui.ctx["other"]["id"]
    for token, outcome in ((ui.ctx["reader"], ".error"), (ui.ctx["admin"], ".ok")):
        sign_in(browser, ui, token=token)
        open_flow(browser, ui, "other")
        ta = css(browser, "#essence")[0]
        doc = browser.execute_script("return JSON.parse(arguments[0].value)", ta)
        assert doc == ui.ctx["other"]["essence_parameters"]
        doc["frame_width"] = 640
        browser.execute_script("arguments[0].value = arguments[1]", ta, json.dumps(doc))
        css(browser, "#essence + button")[0].click()
        res = wait_for(browser, lambda: css(browser, f"#edit-essence-result {outcome}"), "the outcome")
        if outcome == ".error":
            assert "403" in res[0].text
            assert ui.get(f"/flows/{fid}", **ui.ctx["auth"]).json()["essence_parameters"]["frame_width"] == 320
        else:
            assert ui.get(f"/flows/{fid}", **ui.ctx["auth"]).json()["essence_parameters"]["frame_width"] == 640
    # a tag added in the page
    css(browser, "#tags + form input")[0].send_keys("added")
    css(browser, "#tags + form input")[1].send_keys("in the ui")
    css(browser, "#tags + form button")[0].click()
    wait_for(browser, lambda: ui.get(f"/flows/{fid}/tags/added", **ui.ctx["auth"]).status_code == 200,
             "the tag saved")
    assert ui.get(f"/flows/{fid}/tags/added", **ui.ctx["auth"]).json() == "in the ui"
    doc = dict(ui.ctx["other"])
    assert ui.put(f"/flows/{fid}", json=doc, **ui.ctx["auth"]).status_code in (200, 204)


def test_without_hls_js_the_page_says_playback_needs_it(ui, browser):
    """As a build without hls.js (its URL blocked, so it fails to load like a 404) in a browser
    without native HLS (canPlayType overridden before the page's scripts run)."""
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/ui/vendor/hls.min.js"]})
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        const cpt = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (t) {
          return /mpegurl/i.test(t) ? "" : cpt.call(this, t);
        };"""})
    try:
        browser.get(ui.url + "/ui/#/flows/" + ui.ctx["other"]["id"])
        browser.refresh()  # the override applies to documents loaded from now on
        wait_for(browser, lambda: css(browser, "#play"), "the flow page")
        css(browser, "#play")[0].click()
        wait_for(browser, lambda: css(browser, ".player[data-nohls]"), "the missing-hls.js note")
        assert "Playback needs hls.js" in css(browser, "#player-status")[0].text
        shot(browser, "flow-without-hls-js")
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                                {"identifier": script["identifier"]})
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
def test_native_hls_plays_without_hls_js(ui, browser):
    """A browser that plays HLS itself needs no hls.js: the page hands it the playlist URL."""
    hls_routes(ui)
    sign_in(browser, ui, token=ui.ctx["reader"])
    if not browser.execute_script(
            "return document.createElement('video').canPlayType('application/vnd.apple.mpegurl')"):
        pytest.skip("this Chromium has no native HLS")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/ui/vendor/hls.min.js"]})
    try:
        open_flow(browser, ui)
        css(browser, "#play")[0].click()
        wait_playing(browser, "native HLS past 3 s")
        assert browser.execute_script("return typeof window.Hls") == "undefined"
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def hls_routes(ui):
    r = ui.get(f"/hls/flows/{ui.ctx['video']['id']}.m3u8", **ui.ctx["auth"])
    if r.status_code == 404 and r.json().get("summary", "").startswith("no resource at '/hls/"):
        pytest.skip("this tamsd has no /hls/ routes yet (branch hls, issue 16 item 1)")
    assert r.status_code == 200, r.text


def wait_playing(drv, what):
    t = wait_for(drv, lambda: (css(drv, ".player")[0].get_attribute("data-errors") and
                               AssertionError(css(drv, "#player-status")[0].text)) or
                 drv.execute_script("const v = document.getElementById('player');"
                                    "return v.error ? -1 : v.currentTime > 3 ? v.currentTime : 0"),
                 what, timeout=40)
    assert not isinstance(t, AssertionError), str(t)
    assert t > 3
    assert css(drv, ".player")[0].get_attribute("data-errors") is None, css(drv, "#player-status")[0].text


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
@pytest.mark.parametrize("cred", ["token", "basic"])
def test_flow_player_plays_past_three_seconds(ui, browser, cred):
    """With a token the playlist URL carries ?access_token=; with basic credentials hls.js
    sends the Authorization header to /hls/."""
    hls_routes(ui)
    if cred == "token":
        sign_in(browser, ui, token=ui.ctx["reader"])
    else:
        sign_in(browser, ui, basic=("ui-user", "ui-password-1"))
    open_flow(browser, ui)
    css(browser, "#play")[0].click()
    wait_playing(browser, "the flow's player past 3 s")
    shot(browser, f"flow-player-{cred}")


@pytest.mark.skipif(not have_ffmpeg, reason="ffmpeg is not installed (scripts/deps.sh --test)")
def test_source_page_and_its_player(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.get(f"{ui.url}/ui/#/sources/{ui.ctx['source']}")
    rows = wait_for(browser, lambda: css(browser, "#source-flows tr a"), "the source's flows")
    assert [r.text for r in rows] == ["ui video"]
    shot(browser, "source")
    hls_routes(ui)
    css(browser, "#play")[0].click()
    wait_playing(browser, "the source's player past 3 s")
    shot(browser, "source-player")


@pytest.mark.parametrize("page,sel", [("sources", "#sources"), ("webhooks", "#webhooks"),
                                      ("deletions", "#deletions"), ("service", "#backends")])
def test_other_pages(ui, browser, page, sel):
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.get(f"{ui.url}/ui/#/{page}")
    wait_for(browser, lambda: css(browser, sel), f"the {page} page")
    assert page_errors(browser) == []
    assert not re.search(r"\b(null|undefined)\b", css(browser, "main")[0].text)
    shot(browser, page)


def test_webhook_registration_refused_for_a_reader(ui, browser):
    sign_in(browser, ui, token=ui.ctx["reader"])
    browser.get(f"{ui.url}/ui/#/webhooks")
    wait_for(browser, lambda: css(browser, "#webhooks"), "the webhooks page")
    css(browser, "form input[name=url]")[0].send_keys("https://hooks.example.com/x")
    css(browser, "form button")[0].click()
    err = wait_for(browser, lambda: css(browser, ".edit-result .error"), "the refusal")
    assert "403" in err[0].text
    assert ui.get("/service/webhooks", **ui.ctx["auth"]).json() == []


# --- the root's version: 7.0 or 8.2 (root_api_version) ---------------------------------------

def test_the_root_version_is_shown(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    wait_for(browser, lambda: css(browser, "#api-version")[0].text == f"TAMS {ui.version}",
             "the version in the header")
    browser.get(f"{ui.url}/ui/#/service")
    rows = wait_for(browser, lambda: [r.text for r in css(browser, "table.kv tr")
                                      if r.text.startswith("API version")], "the API version row")
    assert rows == [f"API version {ui.version}"]


def test_webhook_registered_and_listed_in_the_page(ui, browser):
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.get(f"{ui.url}/ui/#/webhooks")
    wait_for(browser, lambda: css(browser, "#webhooks"), "the webhooks page")
    heads = [x.text for x in css(browser, "#webhooks th")]
    assert heads[:2] == (["Id", "URL"] if ui.version == "8.2" else ["URL", "Events"])
    url = f"http://127.0.0.1:9/{uuid.uuid4()}"
    css(browser, "form input[name=url]")[0].send_keys(url)
    css(browser, "form button")[0].click()
    row = wait_for(browser, lambda: css(browser, f"#webhooks tr[data-url='{url}']"), "the new row")
    mine = [w for w in ui.get("/service/webhooks", **ui.ctx["auth"]).json() if w["url"] == url]
    assert len(mine) == 1
    if ui.version == "8.2":
        assert row[0].find_elements("css selector", "td")[0].text == mine[0].get("id", "-")
    shot(browser, f"webhooks-{ui.version}")
    r = ui.post("/service/webhooks", json={"url": url, "events": []}, **ui.ctx["auth"])
    assert r.status_code in (200, 201, 204), r.text


def test_webhook_removed_by_id_in_the_page(ui, browser):
    if ui.version != "8.2":
        pytest.skip("7.0 webhooks have no id")
    url = f"http://127.0.0.1:9/{uuid.uuid4()}"
    r = ui.post("/service/webhooks", json={"url": url, "events": ["flows/created"]},
                **ui.ctx["auth"])
    assert r.status_code == 201 and r.json()["id"], r.text
    sign_in(browser, ui, token=ui.ctx["admin"])
    browser.get(f"{ui.url}/ui/#/webhooks")
    row = wait_for(browser, lambda: css(browser, f"#webhooks tr[data-url='{url}'] button.remove"),
                   "the remove button")
    row[0].click()
    wait_for(browser, lambda: not [w for w in ui.get("/service/webhooks", **ui.ctx["auth"]).json()
                                   if w["url"] == url], "the webhook gone")


def test_list_tags_shown(ui, browser):
    """A tag holding a list (8.2) in the flow list, the flow's tag editor and the source page;
    a 7.0 root shows its first value (docs/tams-8.2-changes.md, 10)."""
    v82root = ui.version == "8.2"
    fid, sid = ui.ctx["video"]["id"], ui.ctx["source"]
    v82 = ui.at("8.2")
    for path in (f"/flows/{fid}/tags/crew", f"/sources/{sid}/tags/crew"):
        r = v82.put(path, json=["alice", "bob"], **ui.ctx["auth"])
        assert r.status_code == 204, r.text
    try:
        sign_in(browser, ui, token=ui.ctx["admin"])
        row = wait_for(browser, lambda: css(browser, f"#flows tr[data-flow-id='{fid}']"), "the row")
        assert ("crew=alice|bob" if v82root else "crew=alice") in row[0].text
        open_flow(browser, ui, "video")
        values = [i.get_attribute("value") for i in css(browser, "#tags input")]
        assert ('["alice","bob"]' if v82root else "alice") in values
        browser.get(f"{ui.url}/ui/#/sources/{sid}")
        shown = '"crew":["alice","bob"]' if v82root else '"crew":"alice"'
        wait_for(browser, lambda: shown in css(browser, "main")[0].text,
                 "the list tag on the source page")
        shot(browser, f"list-tags-{ui.version}")
    finally:
        v82.delete(f"/flows/{fid}/tags/crew", **ui.ctx["auth"])
        v82.delete(f"/sources/{sid}/tags/crew", **ui.ctx["auth"])
