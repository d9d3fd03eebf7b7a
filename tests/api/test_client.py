# SPDX-License-Identifier: Apache-2.0
"""The `tams` command-line client against a real tamsd: connection and auth, browsing and
scripting (sources, flows, segments, delete, webhooks), exit statuses and error reports.

The client is the `tams` beside TAMSD_BIN (same build, so the ASan run tests the ASan client).
"""
import json
import os
from fractions import Fraction
import pathlib
import subprocess
import uuid

import pytest

from conftest import BIN, Server, free_port
from test_auth import add_token, add_user

TAMS = str(pathlib.Path(BIN).resolve().parent / "tams")
VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
HOOK_ALLOW = ["--webhooks-allow-private", "true"]


def tams(*args, env=None, stdin=None, timeout=120):
    """Runs the client with a clean environment (no TAMS_* from outside, HOME in a temp dir so
    no user config file is read) and returns the CompletedProcess."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    e["HOME"] = "/nonexistent"
    e.pop("XDG_CONFIG_HOME", None)
    e.update(env or {})
    return subprocess.run([TAMS] + [str(a) for a in args], capture_output=True, text=True,
                          env=e, stdin=subprocess.DEVNULL if stdin is None else stdin,
                          timeout=timeout)


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def json_lines(r):
    return [json.loads(line) for line in ok(r).stdout.splitlines()]


def new_id():
    return str(uuid.uuid4())


def put_flow(srv, fid=None, sid=None, fmt=VIDEO, codec="video/h264", label=None, tags=None):
    fid, sid = fid or new_id(), sid or new_id()
    doc = {"id": fid, "source_id": sid, "format": fmt, "codec": codec,
           "container": "video/mp2t"}
    if fmt == VIDEO:
        doc["essence_parameters"] = {"frame_width": 1280, "frame_height": 720}
    else:
        doc["essence_parameters"] = {"sample_rate": 48000, "channels": 2}
    if label:
        doc["label"] = label
    if tags:
        doc["tags"] = tags
    r = srv.put(f"/flows/{fid}", json=doc)
    assert r.status_code == 201, r.text
    return fid, sid


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("client"), args=HOOK_ALLOW).start()
    yield s
    s.stop()


def test_flows_list_follows_every_page(srv):
    sid = new_id()
    mine = {put_flow(srv, sid=sid)[0] for _ in range(7)}
    # --limit 2: the server answers 2 a page with a Link to the next; all 7 must come.
    got = json_lines(tams("--url", srv.url, "flows", "list", "--source", sid, "--limit", 2,
                          "--json", "--verbose"))
    assert {f["id"] for f in got} == mine and len(got) == 7
    r = tams("--url", srv.url, "flows", "list", "--source", sid, "--limit", 2, "--verbose")
    assert ok(r).stderr.count("GET ") == 4, r.stderr  # 2+2+2+1: four pages read
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "SOURCE", "FORMAT", "CODEC", "LABEL"]
    assert {line.split()[0] for line in lines[1:]} == mine


def test_flows_filters(srv):
    run = new_id()  # a tag of this test's flows only
    a, _ = put_flow(srv, label="client-a", tags={"run": run, "genre": "news"})
    b, _ = put_flow(srv, fmt=AUDIO, codec="audio/aac", label="client-b", tags={"run": run})
    base = ("--url", srv.url, "flows", "list", "--json", "--tag", f"run={run}")
    assert sorted(f["id"] for f in json_lines(tams(*base))) == sorted([a, b])
    assert [f["id"] for f in json_lines(tams(*base, "--label", "client-a"))] == [a]
    assert [f["id"] for f in json_lines(tams(*base, "--codec", "audio/aac"))] == [b]
    assert [f["id"] for f in json_lines(tams(*base, "--format", AUDIO))] == [b]
    assert [f["id"] for f in json_lines(tams(*base, "--tag", "genre=news"))] == [a]
    assert [f["id"] for f in json_lines(tams(*base, "--tag", "genre"))] == [a]
    assert json_lines(tams(*base, "--tag", "genre=sport")) == []
    sid = srv.get(f"/flows/{b}").json()["source_id"]
    assert [f["id"] for f in json_lines(tams(*base, "--source", sid))] == [b]


def test_show_and_sources(srv):
    fid, sid = put_flow(srv, label="shown")
    doc = json.loads(ok(tams("--url", srv.url, "flows", "show", fid, "--json")).stdout)
    assert doc == srv.get(f"/flows/{fid}").json()
    pretty = ok(tams("--url", srv.url, "flows", "show", fid)).stdout
    assert json.loads(pretty) == doc and "\n  " in pretty
    src = json.loads(ok(tams("--url", srv.url, "sources", "show", sid, "--json")).stdout)
    assert src["id"] == sid
    ids = [s["id"] for s in json_lines(tams("--url", srv.url, "sources", "list", "--json",
                                            "--limit", 1))]
    assert sid in ids and len(ids) == len(set(ids)) == len(srv.get("/sources?limit=1000").json())


def test_errors_and_exit_statuses(srv):
    r = tams("--url", srv.url, "flows", "show", new_id())
    assert r.returncode == 5 and "404" in r.stderr and "NotFound" in r.stderr, r.stderr
    r = tams("--url", srv.url, "segments", "list", new_id(), "--timerange", "nonsense")
    assert r.returncode in (5, 6), r.stderr
    r = tams("--url", srv.url, "segments", "list", put_flow(srv)[0], "--timerange", "nonsense")
    assert r.returncode == 6 and "400" in r.stderr and "timerange" in r.stderr.lower(), r.stderr
    assert tams("flows", "list").returncode == 2  # no server named
    r = tams("--url", srv.url, "flows", "list", "--events", "x")
    assert r.returncode == 2 and "--events" in r.stderr
    assert tams("--url", srv.url, "flows", "lst").returncode == 2
    assert tams("--url", srv.url, "nosuch").returncode == 2
    assert tams("--url", "ftp://x", "flows", "list").returncode == 2
    # Nothing listens on port 9 of the loopback address.
    r = tams("--url", "http://127.0.0.1:9", "flows", "list")
    assert r.returncode == 3 and "127.0.0.1:9" in r.stderr, r.stderr


def test_segments_list(srv):
    fid, _ = put_flow(srv)
    objs = srv.post(f"/flows/{fid}/storage", json={"limit": 3}).json()["media_objects"]
    for i, o in enumerate(objs):
        put = o["put_url"]
        assert srv.session.put(put["url"], data=b"x" * 10,
                               headers={"Content-Type": put["content-type"]}).status_code == 200
        r = srv.post(f"/flows/{fid}/segments",
                     json={"object_id": o["object_id"], "timerange": f"[{i}:0_{i + 1}:0)"})
        assert r.status_code == 201, r.text
    segs = json_lines(tams("--url", srv.url, "segments", "list", fid, "--json", "--limit", 1))
    assert [s["timerange"] for s in segs] == ["[0:0_1:0)", "[1:0_2:0)", "[2:0_3:0)"]
    segs = json_lines(tams("--url", srv.url, "segments", "list", fid, "--json",
                           "--timerange", "[1:0_2:0)"))
    assert [s["object_id"] for s in segs] == [objs[1]["object_id"]]
    table = ok(tams("--url", srv.url, "segments", "list", fid)).stdout.splitlines()
    assert table[0].split() == ["TIMERANGE", "OBJECT", "TS_OFFSET"] and len(table) == 4


def test_delete_flow_and_source(srv):
    fid, _ = put_flow(srv)
    ok(tams("--url", srv.url, "delete", "flow", fid))
    assert srv.get(f"/flows/{fid}").status_code == 404
    sid = new_id()
    flows = [put_flow(srv, sid=sid)[0] for _ in range(3)]
    ok(tams("--url", srv.url, "delete", "source", sid, "--quiet"))
    assert all(srv.get(f"/flows/{f}").status_code == 404 for f in flows)
    assert tams("--url", srv.url, "delete", "source", sid).returncode == 5
    assert tams("--url", srv.url, "delete", "flow", fid).returncode == 5
    assert tams("--url", srv.url, "delete", "thing", fid).returncode == 2


def test_webhooks(srv):
    url = f"http://127.0.0.1:9/{new_id()}"
    ok(tams("--url", srv.url, "webhooks", "add", url, "--events", "flows/created,flows/deleted",
            "--api-key-name", "X-Key", "--api-key-value", "s3cret"))
    hooks = [h for h in json_lines(tams("--url", srv.url, "webhooks", "list", "--json"))
             if h["url"] == url]
    assert hooks == [{"url": url, "api_key_name": "X-Key",
                      "events": ["flows/created", "flows/deleted"]}]
    table = ok(tams("--url", srv.url, "webhooks", "list")).stdout
    assert url in table and "flows/created,flows/deleted" in table
    ok(tams("--url", srv.url, "webhooks", "remove", url, "--api-key-name", "X-Key",
            "--api-key-value", "s3cret"))
    assert [h for h in srv.get("/service/webhooks").json() if h["url"] == url] == []
    assert tams("--url", srv.url, "webhooks", "add", url).returncode == 2  # no --events
    r = tams("--url", srv.url, "webhooks", "add", "ftp://x/y", "--events", "flows/created")
    assert r.returncode == 6 and "400" in r.stderr, r.stderr


def test_auth_token_user_and_config(make_server, tmp_path):
    data = tmp_path / "authdata"
    token = add_token(data, "client", "read,write,delete")
    add_user(data, "alice", "read", "pa55word")
    s = make_server(data_dir=data)
    r = tams("--url", s.url, "flows", "list")
    assert r.returncode == 4 and "401" in r.stderr, r.stderr
    ok(tams("--url", s.url, "--token", token, "flows", "list"))
    ok(tams("flows", "list", env={"TAMS_URL": s.url, "TAMS_TOKEN": token}))
    r = tams("--url", s.url, "--token", token[:-1] + ("A" if token[-1] != "A" else "B"),
             "flows", "list")
    assert r.returncode == 4
    ok(tams("--url", s.url, "--user", "alice", "flows", "list",
            env={"TAMS_PASSWORD": "pa55word"}))
    assert tams("--url", s.url, "--user", "alice", "flows", "list",
                env={"TAMS_PASSWORD": "wrong"}).returncode == 4
    # No password and no terminal: a usage error, nothing sent.
    r = subprocess.run([TAMS, "--url", s.url, "--user", "alice", "flows", "list"],
                       capture_output=True, text=True, start_new_session=True,
                       env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
    assert r.returncode == 2 and "TAMS_PASSWORD" in r.stderr, r.stderr
    # read scope: listing works, deleting is forbidden.
    fid = new_id()
    r = tams("--url", s.url, "--user", "alice", "delete", "flow", fid,
             env={"TAMS_PASSWORD": "pa55word"})
    assert r.returncode == 4 and "403" in r.stderr, r.stderr
    # The config file: named by --config or TAMS_CONFIG; an option beats the environment,
    # which beats the file.
    conf = tmp_path / "tams.conf"
    conf.write_text(f"# test\nurl = {s.url}\ntoken = {token}\n")
    ok(tams("--config", conf, "flows", "list"))
    ok(tams("flows", "list", env={"TAMS_CONFIG": str(conf)}))
    home = tmp_path / "home"
    (home / ".config" / "tams").mkdir(parents=True)
    (home / ".config" / "tams" / "config").write_text(conf.read_text())
    ok(tams("flows", "list", env={"HOME": str(home)}))
    assert tams("flows", "list", env={"TAMS_CONFIG": str(conf),
                                      "TAMS_TOKEN": "tams_wrong"}).returncode == 4
    assert tams("--url", "http://127.0.0.1:9", "--config", conf, "flows",
                "list").returncode == 3
    conf.write_text("url = x\nhost = y\n")
    r = tams("--config", conf, "flows", "list")
    assert r.returncode == 2 and "line 2" in r.stderr
    assert tams("--config", tmp_path / "none", "flows", "list").returncode == 2


def test_help():
    r = ok(tams("help"))
    for cmd in ("sources", "flows", "segments", "delete", "webhooks", "ingest", "export", "copy"):
        assert cmd in r.stdout
        h = ok(tams("help", cmd)).stdout
        assert h.startswith("usage: tams " + cmd), h
        assert ok(tams(cmd, "--help")).stdout == h
    assert "exit status" in r.stdout
    assert tams("help", "nosuch").returncode == 2
    assert ok(tams("version")).stdout.startswith("tams ")


# --- ingest: real media made here by the ffmpeg tool ------------------------------------------

def make_media(path, seconds=10, gop=50, size="320x240", extra=()):
    """testsrc2 at 25 fps with a 440 Hz sine, H.264 (a keyframe every gop frames, closed GOPs)
    and AAC, in the container path's extension names."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", str(seconds), "-c:v", "libx264", "-g", str(gop), "-keyint_min", str(gop),
                    "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
                    "-ac", "2", *extra, str(path)], check=True, timeout=300)
    return path


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         check=True, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


def ns(seconds):
    return round(float(seconds) * 1e9)


def ns_ts(stream, key):
    """A stream's timestamp field (start_pts, duration_ts) in ns, exactly as the client rounds."""
    num, den = (int(x) for x in stream["time_base"].split("/"))
    return round(Fraction(int(stream[key]) * num * 10**9, den))


def parse_tr(tr):
    """'[a_b)' -> (a, b) in ns; only the form the client writes."""
    assert tr[0] == "[" and tr[-1] == ")", tr
    lo, hi = tr[1:-1].split("_")

    def one(t):
        s, n = t.split(":")
        sign = -1 if s.startswith("-") else 1
        return sign * (abs(int(s)) * 10**9 + int(n))
    return one(lo), one(hi)


def segments(srv, fid):
    out, url = [], f"{srv.url}/flows/{fid}/segments"
    while url:
        r = srv.session.get(url, timeout=30)
        assert r.status_code == 200, r.text
        out += r.json()
        url = r.links.get("next", {}).get("url")
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    return {"ts": make_media(d / "src.ts"), "mp4": make_media(d / "src.mp4")}


def ingest(srv, path, *args):
    r = ok(tams("--url", srv.url, "ingest", path, "--json", *args))
    return json.loads(r.stdout)


def check_contiguous(segs, start, end, tolerance):
    spans = [parse_tr(s["timerange"]) for s in segs]
    assert spans == sorted(spans)
    for (_, hi), (lo, _) in zip(spans, spans[1:]):
        assert hi == lo, spans  # exactly contiguous: no gap, no overlap
    assert spans[0][0] == start, (spans[0], start)
    assert abs(spans[-1][1] - end) <= tolerance, (spans[-1], end)
    return spans


def test_ingest_essence_parameters(srv, media):
    out = ingest(srv, media["ts"], "--label", "ingest-params")
    assert len(out["flow_ids"]) == 3 and out["segments_registered"] == 10
    flows = [srv.get(f"/flows/{f}").json() for f in out["flow_ids"]]
    multi, video, audio = flows
    assert multi["format"] == "urn:x-nmos:format:multi" and multi["source_id"] == out["source_id"]
    assert sorted(c["id"] for c in multi["flow_collection"]) == sorted([video["id"], audio["id"]])
    assert all(f["label"] == "ingest-params" for f in flows)
    probe = ffprobe(media["ts"], "-show_streams")["streams"]
    pv = next(s for s in probe if s["codec_type"] == "video")
    pa = next(s for s in probe if s["codec_type"] == "audio")
    ev, ea = video["essence_parameters"], audio["essence_parameters"]
    assert video["codec"] == "video/h264" and video["container"] == "video/mp2t"
    assert (ev["frame_width"], ev["frame_height"]) == (pv["width"], pv["height"])
    num, den = pv["avg_frame_rate"].split("/")
    assert (ev["frame_rate"]["numerator"], ev["frame_rate"]["denominator"]) == (int(num), int(den))
    assert ev["interlace_mode"] == pv["field_order"] == "progressive"
    assert ev["bit_depth"] == int(pv["bits_per_raw_sample"])
    assert ev["component_type"] == "YCbCr" and pv["pix_fmt"] == "yuv420p"
    assert (ev["horiz_chroma_subs"], ev["vert_chroma_subs"]) == (2, 2)
    assert audio["codec"] == "audio/aac" and audio["format"] == "urn:x-nmos:format:audio"
    assert ea["sample_rate"] == int(pa["sample_rate"]) and ea["channels"] == pa["channels"]
    assert "bit_depth" not in ea  # AAC has none; ffprobe agrees
    assert "bits_per_raw_sample" not in pa
    # avg_bit_rate: of the segments as stored, so the sum of their sizes over their span.
    for f in (video, audio):
        segs = segments(srv, f["id"])
        size = sum(len(srv.session.get(s["get_urls"][0]["url"]).content) for s in segs)
        lo, hi = parse_tr(segs[0]["timerange"])[0], parse_tr(segs[-1]["timerange"])[1]
        assert f["avg_bit_rate"] == round(size * 8 * 1e6 / (hi - lo)), f
    src = srv.get(f"/sources/{out['source_id']}").json()
    assert src["label"] == "ingest-params"


@pytest.mark.parametrize("container", ["ts", "mp4"])
def test_ingest_segments_contiguous_and_timed(srv, media, tmp_path, container):
    """Each flow's segments cover the media exactly, contiguously, cut at the keyframes (every
    2 s); each segment's object, read back through get_urls, plays its samples at the
    timerange's times, and concatenated they hold every frame of the source."""
    out = ingest(srv, media["ts"], "--container", container, "--label", f"contig-{container}")
    _, vid, aud = out["flow_ids"]
    probe = ffprobe(media["ts"], "-show_streams")["streams"]
    pv = next(s for s in probe if s["codec_type"] == "video")
    pa = next(s for s in probe if s["codec_type"] == "audio")
    vstart, astart = ns_ts(pv, "start_pts"), ns_ts(pa, "start_pts")
    vsegs = segments(srv, vid)
    spans = check_contiguous(vsegs, vstart, vstart + ns_ts(pv, "duration_ts"), 0)
    assert [hi - lo for lo, hi in spans] == [2 * 10**9] * 5
    assert all(s["key_frame_count"] == 1 for s in vsegs)
    asegs = segments(srv, aud)
    pk = ffprobe(media["ts"], "-select_streams", "a", "-show_entries", "packet=pts,duration")
    aend = max(int(p["pts"]) + int(p["duration"]) for p in pk["packets"])
    check_contiguous(asegs, astart, ns_ts({**pa, "end": aend}, "end"), 0)
    frames = 0
    want_ct = "video/mp2t" if container == "ts" else "video/mp4"
    assert srv.get(f"/flows/{vid}").json()["container"] == want_ct
    for s in vsegs:
        lo, hi = parse_tr(s["timerange"])
        obj = tmp_path / "seg"
        obj.write_bytes(srv.session.get(s["get_urls"][0]["url"], timeout=30).content)
        pk = ffprobe(obj, "-show_entries", "packet=pts_time,flags", "-select_streams", "v")
        pts = sorted(ns(p["pts_time"]) for p in pk["packets"])
        assert abs(pts[0] - lo) <= 1000, (pts[0], lo)  # the media's own time, to 1 us
        assert pts[-1] < hi and hi - pts[-1] <= ns(0.04) + 1000
        assert pk["packets"][0]["flags"].startswith("K")
        frames += len(pts)
    assert frames == 250


def test_ingest_mp4_with_negative_timestamps(srv, media):
    """An MP4 with B-frames starts decoding before zero (and AAC priming): the client shifts
    every stream by the same amount so nothing is negative, keeping them in step."""
    out = ingest(srv, media["mp4"], "--label", "neg")
    _, vid, aud = out["flow_ids"]
    vspans = check_contiguous(segments(srv, vid), ns(0.08), ns(10.08), 0)
    aspans = [parse_tr(s["timerange"]) for s in segments(srv, aud)]
    assert aspans[0][0] == ns(0.08) - round(1024 * 10**9 / 48000)  # the priming frame
    assert len(vspans) == 5


def test_ingest_refusals(srv, tmp_path):
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"not media at all" * 100)
    r = tams("--url", srv.url, "ingest", junk)
    assert r.returncode == 1 and "junk.ts" in r.stderr, r.stderr
    r = tams("--url", srv.url, "ingest", tmp_path / "absent.ts")
    assert r.returncode == 1 and "absent.ts" in r.stderr
    for bad in ("0", "-1", "x", "1.", "100000"):
        assert tams("--url", srv.url, "ingest", junk, "--segment-duration", bad).returncode == 2
    assert tams("--url", srv.url, "ingest", junk, "--container", "avi").returncode == 2
    assert tams("--url", srv.url, "ingest").returncode == 2


def test_ingest_kill_then_resume(make_server, tmp_path):
    """kill -9 in the middle of an ingest, then the same command again: every segment once,
    no gap, the same segments as an ingest that was never interrupted."""
    src = make_media(tmp_path / "long.ts", seconds=40, gop=12, size="160x120")
    s = make_server()
    cmd = [TAMS, "--url", s.url, "ingest", str(src), "--segment-duration", "0.4", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
    seen = 0
    while proc.poll() is None:
        vids = [f for f in s.get("/flows?codec=video/h264").json()]
        if vids:
            seen = len(s.get(f"/flows/{vids[0]['id']}/segments").json())
            if seen >= 5:
                proc.kill()
                break
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -9, "the ingest ended before it could be killed"
    out = json.loads(ok(subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                                       env={"PATH": os.environ.get("PATH", ""),
                                            "HOME": "/nonexistent"})).stdout)
    assert out["segments_found"] >= seen and out["segments_registered"] > 0
    ref = make_server()
    want = json.loads(ok(tams("--url", ref.url, "ingest", src, "--segment-duration", "0.4",
                              "--json")).stdout)
    assert want["flow_ids"] == out["flow_ids"]  # the same IDs, from the file
    assert want["segments_registered"] == out["segments_found"] + out["segments_registered"]
    for fid in out["flow_ids"][1:]:
        got = [parse_tr(x["timerange"]) for x in segments(s, fid)]
        assert got == [parse_tr(x["timerange"]) for x in segments(ref, fid)]
        assert len(got) == len(set(got))
        assert all(a[1] == b[0] for a, b in zip(got, got[1:]))


# --- export -----------------------------------------------------------------------------------

def framemd5(path, stream="v:0"):
    """The decoded frames' MD5s, in presentation order."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path),
                          "-map", f"0:{stream}", "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True, timeout=300).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines()
            if line and not line.startswith("#")]


def count_frames(path, stream):
    p = ffprobe(path, "-count_frames", "-select_streams", stream, "-show_entries",
                "stream=nb_read_frames,duration,start_time:format=duration")
    return p


def tr_of(lo, hi):
    return f"[{lo // 10**9}:{lo % 10**9}_{hi // 10**9}:{hi % 10**9})"


@pytest.fixture(scope="module")
def ingested(srv, media):
    out = ingest(srv, media["ts"], "--label", "export-src")
    probe = ffprobe(media["ts"], "-show_streams")["streams"]
    pv = next(s for s in probe if s["codec_type"] == "video")
    return out, ns_ts(pv, "start_pts"), framemd5(media["ts"])


@pytest.mark.parametrize("ext", ["ts", "mp4", "mkv"])
def test_export_window(srv, ingested, tmp_path, ext):
    """A 4 s window on segment boundaries: 100 frames, 4 s, the very frames of the source at
    those times, audio beside them; timestamps from zero."""
    out, vstart, src_md5 = ingested
    lo = vstart + 2 * 10**9
    dst = tmp_path / f"out.{ext}"
    r = json.loads(ok(tams("--url", srv.url, "export", out["source_id"], "--timerange",
                           tr_of(lo, lo + 4 * 10**9), "-o", dst, "--json")).stdout)
    assert r["output"] == str(dst) and r["segments"] >= 4
    v = count_frames(dst, "v")
    vs = v["streams"][0]
    assert int(vs["nb_read_frames"]) == 100
    assert abs(float(v["format"]["duration"]) - 4.0) <= 0.04 + 0.025  # a frame, and AAC's last
    assert float(vs["start_time"]) <= 0.08 + 1e-6  # zero, or the first decode time for TS
    k = (lo - vstart) * 25 // 10**9
    assert framemd5(dst) == src_md5[k:k + 100]
    a = count_frames(dst, "a")["streams"][0]
    assert abs(int(a["nb_read_frames"]) - round(4.0 * 48000 / 1024)) <= 1


def test_export_of_a_flow_and_of_everything(srv, ingested, tmp_path):
    out, _, src_md5 = ingested
    dst = tmp_path / "video.mp4"
    ok(tams("--url", srv.url, "export", out["flow_ids"][1], "-o", dst))  # the video flow alone
    p = ffprobe(dst, "-show_streams")["streams"]
    assert [s["codec_type"] for s in p] == ["video"]
    assert framemd5(dst) == src_md5
    dst = tmp_path / "all.mkv"
    ok(tams("--url", srv.url, "export", out["flow_ids"][0], "-o", dst))  # the multi flow
    assert sorted(s["codec_type"] for s in ffprobe(dst, "-show_streams")["streams"]) == \
        ["audio", "video"]
    assert framemd5(dst) == src_md5


def test_export_gaps_refused_unless_allowed(make_server, media, tmp_path):
    s = make_server()
    out = ingest(s, media["ts"])
    vid = out["flow_ids"][1]
    third = segments(s, vid)[2]["timerange"]
    r = s.delete(f"/flows/{vid}/segments", params={"timerange": third})
    assert r.status_code in (202, 204), r.text
    dst = tmp_path / "gap.ts"
    r = tams("--url", s.url, "export", vid, "-o", dst)
    lo, hi = parse_tr(third)
    assert r.returncode == 1 and "gap" in r.stderr and "--allow-gaps" in r.stderr, r.stderr
    assert f"{lo // 10**9}:{lo % 10**9}" in r.stderr, r.stderr
    assert not dst.exists() or dst.stat().st_size == 0
    ok(tams("--url", s.url, "export", vid, "-o", dst, "--allow-gaps"))
    assert int(count_frames(dst, "v")["streams"][0]["nb_read_frames"]) == 200


def test_export_refusals(srv, ingested, tmp_path):
    out, _, _ = ingested
    r = tams("--url", srv.url, "export", new_id(), "-o", tmp_path / "x.ts")
    assert r.returncode == 5, r.stderr
    assert tams("--url", srv.url, "export", out["source_id"]).returncode == 2  # no -o
    r = tams("--url", srv.url, "export", out["source_id"], "-o", tmp_path / "x.ts",
             "--timerange", "nonsense")
    assert r.returncode == 2
    r = tams("--url", srv.url, "export", out["source_id"], "-o", tmp_path / "x.ts",
             "--timerange", "[1000:0_1001:0)")
    assert r.returncode == 5 and "no segments" in r.stderr
    r = tams("--url", srv.url, "export", out["source_id"], "-o", tmp_path / "x.unknownext")
    assert r.returncode == 2, r.stderr


def test_progress_on_a_terminal_only(srv, media, tmp_path):
    """stderr a terminal: a progress line (bar, bytes, segments, rate); not a terminal, or
    --quiet: none."""
    import pty
    src = media["ts"]
    leader, follower = pty.openpty()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"}
    p = subprocess.run([TAMS, "--url", srv.url, "ingest", str(src), "--label", "progress"],
                       stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert p.returncode == 0
    text = seen.decode(errors="replace")
    assert "\ringest [" in text and "segments" in text and "/s" in text, text
    r = ok(tams("--url", srv.url, "ingest", src))
    assert "\r" not in r.stderr and "ingest [" not in r.stderr
    r = ok(tams("--url", srv.url, "export", ok(tams("--url", srv.url, "ingest", src, "--json"))
                .stdout.split('"')[3], "-o", tmp_path / "p.mp4", "--quiet"))
    assert r.stderr == ""


def test_ingest_live_registers_as_it_goes_and_stops_cleanly(srv, media):
    """--live on a file reads it at its native rate: segments appear while it runs; SIGINT
    stops it with every segment begun registered, contiguous from the start."""
    import signal
    import time
    label = f"live-{new_id()}"
    proc = subprocess.Popen([TAMS, "--url", srv.url, "ingest", "--live", str(media["ts"]),
                             "--label", label, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
    t0 = time.monotonic()
    seen_running = 0
    while time.monotonic() - t0 < 30:
        vids = srv.get("/flows", params={"label": label, "codec": "video/h264"}).json()
        n = len(segments(srv, vids[0]["id"])) if vids else 0
        if n >= 2:
            assert proc.poll() is None  # still running: registered as it goes
            seen_running = n
            break
        time.sleep(0.1)
    assert seen_running >= 2
    # Media time runs with the clock: two 2 s segments need about 4 s.
    assert time.monotonic() - t0 >= 3.5
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    _, vid, aud = doc["flow_ids"]
    vs = [parse_tr(s["timerange"]) for s in segments(srv, vid)]
    assert len(vs) >= 3 and vs[-1][1] < vs[0][0] + 10 * 10**9  # stopped before the end
    assert all(a[1] == b[0] for a, b in zip(vs, vs[1:]))
    assert [hi - lo for lo, hi in vs[:-1]] == [2 * 10**9] * (len(vs) - 1)
    aus = [parse_tr(s["timerange"]) for s in segments(srv, aud)]
    assert all(a[1] == b[0] for a, b in zip(aus, aus[1:])) and len(aus) == len(vs)
    assert doc["segments_registered"] == len(vs) + len(aus)


def test_ingest_live_rides_out_a_server_outage(make_server, tmp_path, monkeypatch):
    """The server goes away for a few seconds in the middle of a live ingest and comes back on
    the same address: the client waits with backoff, carries on, and at the end of the input
    every segment is registered once, contiguous, covering the media."""
    import time
    import conftest
    src = make_media(tmp_path / "live.ts", seconds=12)
    s = make_server()
    port = s.port
    label = f"outage-{new_id()}"
    proc = subprocess.Popen([TAMS, "--url", s.url, "ingest", "--live", str(src), "--label", label,
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vids = s.get("/flows", params={"label": label, "codec": "video/h264"}).json()
        if vids and segments(s, vids[0]["id"]):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the ingest ended before the outage"
    s.stop()
    time.sleep(4)  # two segments' time: at least one registration meets the outage
    monkeypatch.setattr(conftest, "free_port", lambda: port)
    s.start()
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "retrying" in err, err  # the outage was met, not missed
    doc = json.loads(out)
    _, vid, aud = doc["flow_ids"]
    probe = ffprobe(src, "-show_streams")["streams"]
    pv = next(x for x in probe if x["codec_type"] == "video")
    for fid in (vid, aud):
        got = [parse_tr(x["timerange"]) for x in segments(s, fid)]
        assert len(got) == len(set(got)) == 6, got
        assert all(a[1] == b[0] for a, b in zip(got, got[1:])), got
    vs = [parse_tr(x["timerange"]) for x in segments(s, vid)]
    assert vs[0][0] == ns_ts(pv, "start_pts")
    assert vs[-1][1] - vs[0][0] == 12 * 10**9
    assert doc["segments_registered"] == 12


def test_ingest_live_udp_loses_nothing_through_an_outage(make_server, tmp_path, monkeypatch):
    """A network input cannot be paused: while the server is away the client goes on reading
    the UDP stream into its queue (--live-buffer), so every frame sent ends up in the store.
    FFmpeg's own UDP buffer is made small (fifo_size, overrun_nonfatal), so a client that
    stopped reading would lose frames here (checked with --live-buffer 1M while writing this)."""
    import signal
    import time
    import conftest
    src = make_media(tmp_path / "udp.ts", seconds=14, size="640x480",
                     extra=("-b:v", "3M", "-maxrate", "3M", "-bufsize", "1M"))
    s = make_server()
    port, udp = s.port, free_port()
    label = f"udp-{new_id()}"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"}
    proc = subprocess.Popen([TAMS, "--url", s.url, "ingest", "--live", "--label", label, "--json",
                             f"udp://127.0.0.1:{udp}?fifo_size=5000&overrun_nonfatal=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # The sender starts once the client's socket is bound (/proc/net/udp lists it): a datagram
    # sent before would be lost, and so would the frames in it.
    def bound():
        rows = pathlib.Path("/proc/net/udp").read_text().splitlines()[1:]
        return any(r.split()[1].endswith(f":{udp:04X}") for r in rows)
    deadline = time.monotonic() + 30
    while not bound():
        assert time.monotonic() < deadline and proc.poll() is None, "the client never listened"
        time.sleep(0.05)
    sender = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", str(src),
                               "-c", "copy", "-f", "mpegts", f"udp://127.0.0.1:{udp}?pkt_size=1316"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vids = s.get("/flows", params={"label": label, "codec": "video/h264"}).json()
        if vids and segments(s, vids[0]["id"]):
            break
        time.sleep(0.1)
    assert proc.poll() is None and sender.poll() is None, "the stream ended before the outage"
    s.stop()
    time.sleep(6)  # 2.2 MB sent meanwhile: more than FFmpeg's buffer (0.9 MB) and the socket's
    monkeypatch.setattr(conftest, "free_port", lambda: port)
    s.start()
    assert sender.wait(timeout=60) == 0
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "retrying" in err, err
    vid = json.loads(out)["flow_ids"][1]
    got = [parse_tr(x["timerange"]) for x in segments(s, vid)]
    assert all(a[1] == b[0] for a, b in zip(got, got[1:])), got
    ok(tams("--url", s.url, "export", vid, "-o", tmp_path / "back.ts"))
    # Every frame sent, decoded the same, but the last: with no end of input, the demuxer holds
    # the last frame until a next one would begin.
    sent = framemd5(src)
    assert framemd5(tmp_path / "back.ts") == sent[:-1]


# --- copy between stores ----------------------------------------------------------------------

SERVER_KEPT = {"created", "created_by", "updated_by", "metadata_updated", "segments_updated",
               "metadata_version"}


def test_copy_between_two_servers(make_server, media):
    """Every flow document, source label and segment field arrives (object_id and get_urls are
    the destination's own), the bytes are the same, and a rerun after losing some segments
    copies exactly those again."""
    a, b = make_server(), make_server()
    out = ingest(a, media["ts"], "--label", "copied")
    sid = out["source_id"]
    r = json.loads(ok(tams("copy", sid, "--from", a.url, "--to", b.url, "--json")).stdout)
    assert sorted(r["flow_ids"]) == sorted(out["flow_ids"])
    assert r["segments_copied"] == 10 and r["segments_found"] == 0
    for fid in out["flow_ids"]:
        fa, fb = a.get(f"/flows/{fid}").json(), b.get(f"/flows/{fid}").json()
        assert {k: v for k, v in fa.items() if k not in SERVER_KEPT} == \
            {k: v for k, v in fb.items() if k not in SERVER_KEPT}
        sa, sb = segments(a, fid), segments(b, fid)
        assert len(sa) == len(sb)
        for x, y in zip(sa, sb):
            assert {k: v for k, v in x.items() if k not in ("object_id", "get_urls")} == \
                {k: v for k, v in y.items() if k not in ("object_id", "get_urls")}
            assert x["object_id"] != y["object_id"]
            assert a.session.get(x["get_urls"][0]["url"]).content == \
                b.session.get(y["get_urls"][0]["url"]).content
    for s in {a.get(f"/flows/{f}").json()["source_id"] for f in out["flow_ids"]}:
        assert b.get(f"/sources/{s}").json()["label"] == "copied"
    # Resume: lose two segments at the destination, copy again.
    vid = out["flow_ids"][1]
    gone = [s["timerange"] for s in segments(b, vid)[1:3]]
    for tr in gone:
        assert b.delete(f"/flows/{vid}/segments", params={"timerange": tr}).status_code in (202, 204)
    r = json.loads(ok(tams("copy", sid, "--from", a.url, "--to", b.url, "--json")).stdout)
    assert r["segments_copied"] == 2 and r["segments_found"] == 8
    assert [s["timerange"] for s in segments(b, vid)] == [s["timerange"] for s in segments(a, vid)]
    # A window copies only the segments that overlap it.
    c = make_server()
    lo = parse_tr(segments(a, vid)[0]["timerange"])[0]
    r = json.loads(ok(tams("copy", vid, "--from", a.url, "--to", c.url, "--json",
                           "--timerange", tr_of(lo, lo + 2 * 10**9))).stdout)
    assert r["segments_copied"] == 1 and len(segments(c, vid)) == 1
    assert tams("copy", sid, "--from", a.url).returncode == 2  # no --to


def test_export_tries_the_next_get_url(srv, ingested, tmp_path):
    """Segments whose first get_url is dead (uncontrolled URLs registered with them): export
    falls back to the next one; with no live URL it fails, naming the connection."""
    out, _, src_md5 = ingested
    vid = out["flow_ids"][1]
    doc = srv.get(f"/flows/{vid}").json()
    for k in SERVER_KEPT | {"collected_by", "timerange"}:
        doc.pop(k, None)
    flows = []
    for urls_of in (lambda good: [{"url": "http://127.0.0.1:9/dead"}, {"url": good}],
                    lambda good: [{"url": "http://127.0.0.1:9/dead"}]):
        fid = doc["id"] = new_id()
        assert srv.put(f"/flows/{fid}", json=doc).status_code == 201
        for seg in segments(srv, vid):
            r = srv.post(f"/flows/{fid}/segments", json={
                "object_id": f"external-{new_id()}", "timerange": seg["timerange"],
                "get_urls": urls_of(seg["get_urls"][0]["url"])})
            assert r.status_code == 201, r.text
        flows.append(fid)
    assert segments(srv, flows[0])[0]["get_urls"][0]["url"] == "http://127.0.0.1:9/dead"
    dst = tmp_path / "fallback.mp4"
    ok(tams("--url", srv.url, "export", flows[0], "-o", dst))
    assert framemd5(dst) == src_md5
    r = tams("--url", srv.url, "export", flows[1], "-o", tmp_path / "dead.mp4")
    assert r.returncode == 3 and "127.0.0.1:9/dead" in r.stderr, r.stderr


@pytest.mark.parametrize("segments_in", ["ts", "mp4"])
@pytest.mark.parametrize("ext", ["ts", "mp4", "mkv"])
def test_export_exact(srv, ingested, media, tmp_path, ext, segments_in):
    """--exact: the window to the frame, both ends inside GOPs. The GOP between is copied (its
    frames decode bit for bit as the source's); only the edge GOPs are re-encoded, in the
    copied stream's own form (Annex B from MPEG-TS segments, length-prefixed from MP4 ones),
    so the whole decodes without an error."""
    out, vstart, src_md5 = ingested
    multi = out["flow_ids"][0]
    if segments_in == "mp4":
        multi = ingest(srv, media["ts"], "--container", "mp4")["flow_ids"][0]
    lo, hi = vstart + ns(0.52), vstart + ns(5.52)  # frames 13..137 of the source
    dst = tmp_path / f"exact.{ext}"
    ok(tams("--url", srv.url, "export", multi, "--timerange", tr_of(lo, hi), "--exact",
            "-o", dst))
    v = count_frames(dst, "v")
    assert int(v["streams"][0]["nb_read_frames"]) == 125
    assert abs(float(v["format"]["duration"]) - 5.0) <= 0.04 + 0.025
    dec = subprocess.run(["ffmpeg", "-hide_banner", "-v", "error", "-i", str(dst), "-f", "null",
                          "-"], capture_output=True, text=True, timeout=120)
    assert dec.returncode == 0 and dec.stderr == "", dec.stderr
    got = framemd5(dst)
    assert len(got) == 125
    assert got[37:87] == src_md5[50:100]  # the copied GOP
    assert got[:37] != src_md5[13:50]  # the edge: re-encoded (lossy), so not the same bits
    a = count_frames(dst, "a")["streams"][0]
    assert abs(int(a["nb_read_frames"]) - round(5.0 * 48000 / 1024)) <= 1
