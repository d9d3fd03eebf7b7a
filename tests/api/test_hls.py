"""HLS playlists from the segment index (docs/hls.md): GET /hls/flows/{id}.m3u8 and
GET /hls/sources/{id}.m3u8, with real H.264 and AAC MPEG-TS segments made by ffmpeg here,
uploaded to the built-in object store and registered with exact timeranges; ffprobe reads the
playlists as a second, independent client."""
import datetime
import decimal
import json
import os
import re
import subprocess
import urllib.parse
import uuid

import pytest
import requests

from conftest import BIN, Server, check_error

VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
MULTI = "urn:x-nmos:format:multi"
SEG_S = 2
NSEG = 6
# A TAI time in 2023: segment i covers [BASE + 2i, BASE + 2i + 2) seconds.
BASE = 1700000000
CT = "application/vnd.apple.mpegurl"


def tr(i, j=None):
    """Timerange of segments i..j-1 (j = i + 1 when not given)."""
    j = i + 1 if j is None else j
    return f"[{BASE + SEG_S * i}:0_{BASE + SEG_S * j}:0)"


def ffmpeg(args, cwd):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + args, cwd=cwd,
                   check=True, timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """NSEG two-second H.264 (High, level 3.0, 320x240, 25 fps) and AAC-LC segments."""
    d = tmp_path_factory.mktemp("hls-media")
    total = str(SEG_S * NSEG)
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", total,
            "-c:v", "libx264", "-profile:v", "high", "-level", "3.0", "-pix_fmt", "yuv420p",
            "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
            "-f", "segment", "-segment_time", str(SEG_S), "-segment_format", "mpegts",
            "v%02d.ts"], d)
    ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", total,
            "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-f", "segment", "-segment_time", str(SEG_S), "-segment_format", "mpegts",
            "a%02d.ts"], d)
    v = [(d / f"v{i:02d}.ts").read_bytes() for i in range(NSEG)]
    a = [(d / f"a{i:02d}.ts").read_bytes() for i in range(NSEG)]
    assert all(v) and all(a)
    return {"video": v, "audio": a}


def video_doc(fid=None, sid=None, **kw):
    doc = {"id": fid or str(uuid.uuid4()), "source_id": sid or str(uuid.uuid4()),
           "format": VIDEO, "codec": "video/h264", "container": "video/mp2t",
           "label": "testsrc2", "max_bit_rate": 400, "avg_bit_rate": 300,
           "segment_duration": {"numerator": SEG_S, "denominator": 1},
           "essence_parameters": {"frame_width": 320, "frame_height": 240,
                                  "frame_rate": {"numerator": 25, "denominator": 1},
                                  "avc_parameters": {"profile": 100, "level": 30, "flags": 0}}}
    doc.update(kw)
    return doc


def audio_doc(fid=None, sid=None):
    return {"id": fid or str(uuid.uuid4()), "source_id": sid or str(uuid.uuid4()),
            "format": AUDIO, "codec": "audio/aac", "container": "video/mp2t", "label": "sine",
            "avg_bit_rate": 128,
            "essence_parameters": {"sample_rate": 48000, "channels": 2,
                                   "codec_parameters": {"mp4_oti": 2}}}


def put_flow(srv, doc, **kw):
    r = srv.put(f"/flows/{doc['id']}", json=doc, **kw)
    assert r.status_code in (201, 204), r.text


def register(srv, fid, data, timerange, **kw):
    """Allocate an object, PUT the bytes to its put_url, register it at `timerange`."""
    r = srv.post(f"/flows/{fid}/storage", json={"limit": 1}, **kw)
    assert r.status_code == 201, r.text
    obj = r.json()["media_objects"][0]
    put = obj["put_url"]
    r = requests.put(put["url"], data=data, headers={"Content-Type": put["content-type"]},
                     timeout=30)
    assert r.status_code == 200, r.text
    r = srv.post(f"/flows/{fid}/segments",
                 json={"object_id": obj["object_id"], "timerange": timerange}, **kw)
    assert r.status_code == 201, r.text
    return obj["object_id"]


def parse(text):
    """A media playlist as (tags, segments): segments are dicts of duration, uri, gap, pdt."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U", text[:200]
    tags, segs, cur = {}, [], {}
    for line in lines[1:]:
        if line.startswith("#EXTINF:"):
            cur["duration"] = decimal.Decimal(line[8:].split(",")[0])
        elif line == "#EXT-X-GAP":
            cur["gap"] = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            cur["pdt"] = line.split(":", 1)[1]
        elif line.startswith("#"):
            name, _, value = line.partition(":")
            tags[name] = value
        elif line:
            cur["uri"] = line
            segs.append(cur)
            cur = {}
    return tags, segs


def utc_of_tai(secs):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(seconds=secs - 37)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def playlist(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CT
    return r.text


@pytest.fixture(scope="module")
def vod(tmp_path_factory, media):
    """One server: a read-only-free video flow with all NSEG segments, one with segment 2 left
    out, an audio flow, and a multi-essence flow collecting the first video and the audio."""
    srv = Server(tmp_path_factory.mktemp("hls")).start()
    v, gap, a = video_doc(), video_doc(), audio_doc()
    m = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": MULTI,
         "container": "video/mp2t", "label": "av",
         "flow_collection": [{"id": v["id"], "role": "video"}, {"id": a["id"], "role": "audio"}]}
    for doc in (v, gap, a):
        put_flow(srv, doc)
    put_flow(srv, m)
    for i in range(NSEG):
        register(srv, v["id"], media["video"][i], tr(i))
        register(srv, a["id"], media["audio"][i], tr(i))
        if i != 2:
            register(srv, gap["id"], media["video"][i], tr(i))
    srv.fx = {"v": v, "gap": gap, "a": a, "m": m}
    yield srv
    srv.stop()


def test_vod_playlist(vod, media):
    v = vod.fx["v"]
    text = playlist(vod, f"/hls/flows/{v['id']}.m3u8", params={"timerange": tr(0, NSEG)})
    tags, segs = parse(text)
    assert tags["#EXT-X-PLAYLIST-TYPE"] == "VOD"
    assert "#EXT-X-ENDLIST" in tags and text.endswith("#EXT-X-ENDLIST\n")
    assert tags["#EXT-X-TARGETDURATION"] == str(SEG_S)
    assert tags["#EXT-X-MEDIA-SEQUENCE"] == str(BASE // SEG_S)
    assert len(segs) == NSEG and not any(s.get("gap") for s in segs)
    assert sum(s["duration"] for s in segs) == SEG_S * NSEG
    assert segs[0]["pdt"] == utc_of_tai(BASE)
    # Every URI is presigned: a client with no credentials gets the very bytes uploaded.
    for i, s in enumerate(segs):
        r = requests.get(s["uri"], timeout=30)
        assert r.status_code == 200 and r.content == media["video"][i], s["uri"]


def test_whole_flow_default_and_part(vod, media):
    v = vod.fx["v"]
    # Registered just now and not read-only: the flow is being written, so it is live.
    w = video_doc()
    put_flow(vod, w)
    register(vod, w["id"], media["video"][0], tr(0))
    tags, segs = parse(playlist(vod, f"/hls/flows/{w['id']}.m3u8"))
    assert "#EXT-X-ENDLIST" not in tags and "#EXT-X-PLAYLIST-TYPE" not in tags
    assert len(segs) == 1
    # A closed timerange inside the flow lists the segments overlapping it, numbered from the
    # timeline.
    tags, segs = parse(playlist(vod, f"/hls/flows/{v['id']}.m3u8",
                                params={"timerange": tr(2, 4)}))
    assert len(segs) == 2 and "#EXT-X-ENDLIST" in tags
    assert tags["#EXT-X-MEDIA-SEQUENCE"] == str(BASE // SEG_S + 2)
    assert segs[0]["pdt"] == utc_of_tai(BASE + 2 * SEG_S)


def test_gap_marked(vod):
    g = vod.fx["gap"]
    text = playlist(vod, f"/hls/flows/{g['id']}.m3u8", params={"timerange": tr(0, NSEG)})
    tags, segs = parse(text)
    assert [bool(s.get("gap")) for s in segs] == [False, False, True, False, False, False]
    assert segs[2]["duration"] == SEG_S
    # The timeline resumes with its own date after the hole, and the durations add up.
    assert segs[3]["pdt"] == utc_of_tai(BASE + 3 * SEG_S)
    assert sum(s["duration"] for s in segs) == SEG_S * NSEG


def test_read_only_flow_is_vod_by_default(tmp_path_factory, media):
    srv = Server(tmp_path_factory.mktemp("hls-ro")).start()
    try:
        v = video_doc()
        put_flow(srv, v)
        for i in range(3):
            register(srv, v["id"], media["video"][i], tr(i))
        assert srv.put(f"/flows/{v['id']}/read_only", json=True).status_code == 204
        tags, segs = parse(playlist(srv, f"/hls/flows/{v['id']}.m3u8"))
        assert "#EXT-X-ENDLIST" in tags and len(segs) == 3
        assert sum(s["duration"] for s in segs) == 3 * SEG_S
    finally:
        srv.stop()


def test_live_window_and_media_sequence(tmp_path_factory, media):
    """Segments arrive one by one; every reload of the open-ended playlist shows the latest six,
    no ENDLIST, and a media sequence that numbers each segment alike on every reload."""
    srv = Server(tmp_path_factory.mktemp("hls-live")).start()
    try:
        v = video_doc()
        put_flow(srv, v)
        number = {}  # segment URI path -> media sequence number seen
        seen_first = []
        for i in range(10):
            register(srv, v["id"], media["video"][i % NSEG], tr(i))
            text = playlist(srv, f"/hls/flows/{v['id']}.m3u8",
                            params={"timerange": f"[{BASE}:0_"})
            tags, segs = parse(text)
            assert "#EXT-X-ENDLIST" not in tags and "#EXT-X-PLAYLIST-TYPE" not in tags
            assert len(segs) == min(i + 1, 6)
            seq = int(tags["#EXT-X-MEDIA-SEQUENCE"])
            assert seq == BASE // SEG_S + max(0, i - 5)
            seen_first.append(seq)
            for k, s in enumerate(segs):
                key = urllib.parse.urlsplit(s["uri"]).path
                assert number.setdefault(key, seq + k) == seq + k
            assert sum(s["duration"] for s in segs) == SEG_S * len(segs)
            assert segs[0]["pdt"] == utc_of_tai(BASE + SEG_S * max(0, i - 5))
        assert seen_first == sorted(seen_first) and seen_first[-1] - seen_first[0] == 4
        # A second instance on the same data numbers alike (nothing kept in memory).
        srv.stop()
        srv.start()
        tags, segs = parse(playlist(srv, f"/hls/flows/{v['id']}.m3u8",
                                    params={"timerange": f"[{BASE}:0_"}))
        assert int(tags["#EXT-X-MEDIA-SEQUENCE"]) == seen_first[-1]
    finally:
        srv.stop()


def test_multivariant(vod):
    m, v, a = vod.fx["m"], vod.fx["v"], vod.fx["a"]
    text = playlist(vod, f"/hls/sources/{m['source_id']}.m3u8",
                    params={"timerange": tr(0, NSEG)})
    lines = text.splitlines()
    media = [x for x in lines if x.startswith("#EXT-X-MEDIA:")]
    assert len(media) == 1, text
    assert 'TYPE=AUDIO' in media[0] and 'GROUP-ID="audio"' in media[0]
    assert 'NAME="sine"' in media[0] and "DEFAULT=YES" in media[0]
    uri = re.search(r'URI="([^"]+)"', media[0]).group(1)
    assert uri.startswith(f"../flows/{a['id']}.m3u8?timerange=")
    inf = [k for k, x in enumerate(lines) if x.startswith("#EXT-X-STREAM-INF:")]
    assert len(inf) == 1, text
    attrs = lines[inf[0]]
    assert "BANDWIDTH=528000," in attrs  # 400 kbit/s video + 128 kbit/s audio
    assert "AVERAGE-BANDWIDTH=428000," in attrs
    assert "RESOLUTION=320x240" in attrs and "FRAME-RATE=25.000" in attrs
    assert 'CODECS="avc1.64001E,mp4a.40.2"' in attrs and 'AUDIO="audio"' in attrs
    assert lines[inf[0] + 1].startswith(f"../flows/{v['id']}.m3u8?timerange=")
    # The relative URIs resolve to the media playlists.
    base = vod.url + f"/hls/sources/{m['source_id']}.m3u8"
    for u in (uri, lines[inf[0] + 1]):
        r = requests.get(urllib.parse.urljoin(base, u), timeout=30)
        assert r.status_code == 200 and r.text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in r.text
    # The video flow's own source: one variant, no audio group.
    text = playlist(vod, f"/hls/sources/{v['source_id']}.m3u8")
    assert "#EXT-X-MEDIA:" not in text and 'CODECS="avc1.64001E"' in text
    assert "BANDWIDTH=400000," in text


def test_errors(vod):
    v = vod.fx["v"]
    for path in (f"/hls/flows/{uuid.uuid4()}.m3u8", f"/hls/sources/{uuid.uuid4()}.m3u8",
                 "/hls/flows/not-a-uuid.m3u8", f"/hls/flows/{v['id']}",
                 f"/hls/flows/{v['id']}.m3u"):
        check_error(vod.get(path), 404)
    body = check_error(vod.get(f"/hls/flows/{v['id']}.m3u8", params={"timerange": "[5:0_"
                                                                      "x"}), 400)
    assert "timerange" in body["summary"]
    check_error(vod.get(f"/hls/sources/{v['source_id']}.m3u8", params={"timerange": "nope"}), 400)
    check_error(vod.get(f"/hls/flows/{v['id']}.m3u8", params={"limit": "5"}), 400)
    # A source with no playable flow is a 404 with the reason.
    d = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()),
         "format": "urn:x-nmos:format:data", "codec": "text/plain", "container": "text/plain",
         "essence_parameters": {}}
    put_flow(vod, d)
    body = check_error(vod.get(f"/hls/sources/{d['source_id']}.m3u8"), 404)
    assert "no video or audio flow" in body["summary"]


def add_token(data_dir, name, scopes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    r = subprocess.run([BIN, "token", "create", "--name", name, "--scopes", scopes,
                        "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60,
                       env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_auth(tmp_path_factory, media):
    tmp = tmp_path_factory.mktemp("hls-auth")
    data = tmp / "data"
    admin, read, write = (add_token(data, n, n) for n in ("admin", "read", "write"))
    srv = Server(tmp, data_dir=data).start()
    try:
        hdr = {"Authorization": "Bearer " + admin}
        v, a = video_doc(), audio_doc()
        m = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": MULTI,
             "container": "video/mp2t",
             "flow_collection": [{"id": v["id"], "role": "v"}, {"id": a["id"], "role": "a"}]}
        for doc in (v, a, m):
            put_flow(srv, doc, headers=hdr)
        register(srv, v["id"], media["video"][0], tr(0), headers=hdr)
        register(srv, a["id"], media["audio"][0], tr(0), headers=hdr)
        for path in (f"/hls/flows/{v['id']}.m3u8", f"/hls/sources/{m['source_id']}.m3u8"):
            check_error(requests.get(srv.url + path, timeout=30), 401)
            check_error(requests.get(srv.url + path, params={"access_token": "tams_wrong"},
                                     timeout=30), 401)
            # The same scope as GET /flows/{id}/segments: a write-only token may not read.
            seg = requests.get(srv.url + f"/flows/{v['id']}/segments",
                               headers={"Authorization": "Bearer " + write}, timeout=30)
            r = requests.get(srv.url + path, headers={"Authorization": "Bearer " + write},
                             timeout=30)
            assert r.status_code == seg.status_code
            check_error(r, 403)
            r = requests.get(srv.url + path, headers={"Authorization": "Bearer " + read},
                             timeout=30)
            assert r.status_code == 200 and r.headers["Content-Type"] == CT
        # With ?access_token= the multivariant's URIs carry it: a player given one URL plays.
        url = srv.url + f"/hls/sources/{m['source_id']}.m3u8?access_token={read}"
        text = requests.get(url, timeout=30).text
        uris = re.findall(r'URI="([^"]+)"', text) + \
            [x for x in text.splitlines() if x and not x.startswith("#")]
        assert len(uris) == 2
        for u in uris:
            assert f"access_token={read}" in u
            r = requests.get(urllib.parse.urljoin(url, u), timeout=30)
            assert r.status_code == 200, r.text
            tags, segs = parse(r.text)
            assert len(segs) == 1
            # Segment URIs are presigned objects: no credential needed, none carried.
            assert "access_token" not in segs[0]["uri"]
            assert requests.get(segs[0]["uri"], timeout=30).status_code == 200
    finally:
        srv.stop()


def ffprobe(url):
    # Object URLs end in no file extension, which FFmpeg 5.1's HLS demuxer refuses unless told
    # not to be picky (docs/hls.md).
    r = subprocess.run(["ffprobe", "-v", "error", "-extension_picky", "0", "-of", "json",
                        "-show_format", "-show_streams", url], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_ffprobe_reads_playlists(vod):
    v, m = vod.fx["v"], vod.fx["m"]
    q = "?timerange=" + urllib.parse.quote(tr(0, NSEG))
    out = ffprobe(vod.url + f"/hls/flows/{v['id']}.m3u8" + q)
    assert out["format"]["format_name"] == "hls"
    assert abs(float(out["format"]["duration"]) - SEG_S * NSEG) < 0.1, out["format"]
    streams = out["streams"]
    assert [s["codec_name"] for s in streams] == ["h264"]
    assert (streams[0]["width"], streams[0]["height"]) == (320, 240)
    assert streams[0]["profile"] == "High" and streams[0]["level"] == 30
    out = ffprobe(vod.url + f"/hls/sources/{m['source_id']}.m3u8" + q)
    kinds = sorted({s["codec_name"] for s in out["streams"]})
    assert kinds == ["aac", "h264"], out["streams"]
    assert abs(float(out["format"]["duration"]) - SEG_S * NSEG) < 0.2, out["format"]
