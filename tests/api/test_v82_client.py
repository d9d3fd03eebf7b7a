# SPDX-License-Identifier: Apache-2.0
"""The `tams` client against a /tams/v7.0 and a /tams/v8.2 base (issue 19, item 5).

The essential client tests (browse, webhooks, ingest, export, copy) run for both versions:
the client's --url is the version's prefix, and every document it prints or makes is validated
against that version's schemas. Where 8.2 needs the client to behave differently it reads
/service's api_version: an 8.2 video flow says frame_rate or vfr (ingest, copy), webhooks are
listed with ids and removed by id.
"""
import json

import pytest

from conftest import Server
from test_client import (HOOK_ALLOW, count_frames, framemd5, ingest as _ingest, json_lines,
                         make_media, new_id, ok, put_flow, segments, tams)

VERSIONS = ["7.0", "8.2"]
FLOW_SCHEMA = {"7.0": "flow.json", "8.2": "flow-get.json"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("client82"), args=HOOK_ALLOW).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("media82") / "src.ts", seconds=4)


def ingest(view, path, *args):
    r = ok(tams("--url", view.api, "ingest", path, "--json", *args))
    return json.loads(r.stdout)


@pytest.mark.parametrize("version", VERSIONS)
def test_browse(srv, version):
    view = srv.at(version)
    run = new_id()
    fid, sid = new_id(), new_id()
    r = view.put(f"/flows/{fid}", json={
        "id": fid, "source_id": sid, "format": "urn:x-nmos:format:video", "codec": "video/h264",
        "container": "video/mp2t", "label": "browse", "tags": {"run": run},
        "essence_parameters": {"frame_width": 64, "frame_height": 36,
                               "frame_rate": {"numerator": 25}}})
    assert r.status_code == 201, r.text
    flows = json_lines(tams("--url", view.api, "flows", "list", "--json", "--tag", f"run={run}"))
    assert [f["id"] for f in flows] == [fid]
    for f in flows:
        view.validate(f, FLOW_SCHEMA[version])
    doc = json.loads(ok(tams("--url", view.api, "flows", "show", fid, "--json")).stdout)
    assert doc == view.get(f"/flows/{fid}").json()
    table = ok(tams("--url", view.api, "flows", "list", "--tag", f"run={run}")).stdout
    assert fid in table and "browse" in table
    src = json.loads(ok(tams("--url", view.api, "sources", "show", sid, "--json")).stdout)
    view.validate(src, "source.json")
    assert src["id"] == sid
    r = view.post(f"/flows/{fid}/segments", json={
        "object_id": new_id(), "timerange": "[0:0_1:0)",
        "get_urls": [{"url": "http://media.example.com/a.ts", "label": "origin"}]})
    assert r.status_code == 201, r.text
    segs = json_lines(tams("--url", view.api, "segments", "list", fid, "--json"))
    assert [s["timerange"] for s in segs] == ["[0:0_1:0)"]
    for s in segs:
        view.validate(s, "flow-segment.json")
    ok(tams("--url", view.api, "delete", "flow", fid))
    assert view.get(f"/flows/{fid}").status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
def test_webhooks(srv, version):
    view = srv.at(version)
    url = f"http://127.0.0.1:9/{new_id()}"
    ok(tams("--url", view.api, "webhooks", "add", url, "--events", "flows/created"))
    hooks = [h for h in json_lines(tams("--url", view.api, "webhooks", "list", "--json"))
             if h["url"] == url]
    assert len(hooks) == 1
    table = ok(tams("--url", view.api, "webhooks", "list")).stdout.splitlines()
    assert table[0].split()[:3] == (["ID", "URL", "EVENTS"] if version == "8.2"
                                    else ["URL", "EVENTS"])
    row = [line for line in table if url in line][0].split()
    if version == "8.2":  # the id column: the webhook's id, "-" until the server gives one
        assert row[0] == hooks[0].get("id", "-")
    ok(tams("--url", view.api, "webhooks", "remove", url))
    assert [h for h in view.get("/service/webhooks").json() if h["url"] == url] == []
    r = tams("--url", view.api, "webhooks", "remove", url)
    assert r.returncode == (5 if version == "8.2" else 0), r.stderr


def test_webhooks_removed_by_id_under_82(srv):
    view = srv.at("8.2")
    url = f"http://127.0.0.1:9/{new_id()}"
    ok(tams("--url", view.api, "webhooks", "add", url, "--events", "flows/created"))
    hook = [h for h in view.get("/service/webhooks").json() if h["url"] == url][0]
    view.validate(hook, "webhook-get.json")
    assert hook["id"] in ok(tams("--url", view.api, "webhooks", "list")).stdout
    ok(tams("--url", view.api, "webhooks", "remove", hook["id"]))
    assert view.get(f"/service/webhooks/{hook['id']}").status_code == 404
    assert tams("--url", view.api, "webhooks", "remove", hook["id"]).returncode == 5


def test_webhooks_removed_by_id_only_under_82(srv):
    r = tams("--url", srv.at("7.0").api, "webhooks", "remove", new_id())
    assert r.returncode == 2 and "by its URL" in r.stderr, r.stderr


def test_list_tags_browsed(srv):
    v82 = srv.at("8.2")
    fid, _ = put_flow(srv, label="list-tags")
    r = v82.put(f"/flows/{fid}/tags/genre", json=["news", "sport"])
    assert r.status_code == 204, r.text
    doc = json.loads(ok(tams("--url", v82.api, "flows", "show", fid, "--json")).stdout)
    assert doc["tags"]["genre"] == ["news", "sport"]
    v82.validate(doc, "flow-get.json")
    got = json_lines(tams("--url", v82.api, "flows", "list", "--json", "--tag", "genre=sport"))
    assert fid in [f["id"] for f in got]
    assert fid in ok(tams("--url", v82.api, "flows", "list", "--tag", "genre=sport")).stdout
    assert '"sport"' in ok(tams("--url", v82.api, "flows", "show", fid)).stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_ingest_and_export(make_server, media, tmp_path, version):
    s = make_server()
    view = s.at(version)
    out = ingest(view, media, "--label", f"ingest-{version}")
    assert len(out["flow_ids"]) == 3 and out["segments_registered"] == 4
    flows = [view.get(f"/flows/{f}").json() for f in out["flow_ids"]]
    video = [f for f in flows if f["format"] == "urn:x-nmos:format:video"]
    assert len(video) == 1
    # 8.2 requires frame_rate unless vfr: the client sends the rate it reads from the media.
    assert video[0]["essence_parameters"]["frame_rate"] == {"numerator": 25, "denominator": 1}
    assert "vfr" not in video[0]["essence_parameters"]
    for f in flows:
        view.validate(f, FLOW_SCHEMA[version])
    for seg in segments(s, out["flow_ids"][1]):
        view.validate(seg, "flow-segment.json")
    dst = tmp_path / "out.ts"
    ok(tams("--url", view.api, "export", out["source_id"], "-o", dst))
    assert int(count_frames(dst, "v")["streams"][0]["nb_read_frames"]) == 100
    assert framemd5(dst) == framemd5(media)


@pytest.mark.parametrize("version", VERSIONS)
def test_copy_from_a_70_view_to_a_view_of(make_server, media, version):
    """From the 7.0 view of one server to the `version` view of another: the ingested flows,
    their segments and media."""
    a, b = make_server(), make_server()
    src, dst = a.at("7.0"), b.at(version)
    out = _ingest(a, media, "--label", "copied")
    r = json.loads(ok(tams("copy", out["source_id"], "--from", src.api, "--to", dst.api,
                           "--json")).stdout)
    assert sorted(r["flow_ids"]) == sorted(out["flow_ids"])
    assert r["segments_copied"] == 4
    for fid in out["flow_ids"]:
        fa, fb = src.get(f"/flows/{fid}").json(), dst.get(f"/flows/{fid}").json()
        assert fa.get("essence_parameters") == fb.get("essence_parameters")
        assert [x["timerange"] for x in segments(a, fid)] == \
            [x["timerange"] for x in segments(b, fid)]


@pytest.mark.parametrize("version", ["7.0", "8.2"])
def test_copy_of_a_flow_without_frame_rate(make_server, version):
    """7.0 allows a video flow without frame_rate; it reaches an 8.2 server with vfr: true."""
    a, b = make_server(), make_server()
    src, dst = a.at("7.0"), b.at(version)
    fid, _ = put_flow(a, label="no rate")
    ok(tams("copy", fid, "--from", src.api, "--to", dst.api))
    doc = dst.get(f"/flows/{fid}").json()
    dst.validate(doc, FLOW_SCHEMA[version])
    ep = doc["essence_parameters"]
    assert "frame_rate" not in ep
    if version == "8.2":
        assert ep.get("vfr") is True, ep
    else:
        assert "vfr" not in ep


def test_copy_of_list_tags_to_a_70_server(make_server):
    """8.2 list tags meet a 7.0 destination: a list of several values is refused, naming flow
    and tag, before anything is written (here on the second flow of a collection); with
    --first-value each goes over as its first value, a one-value list always as its value."""
    a, b = make_server(), make_server()
    src, dst = a.at("8.2"), b.at("7.0")
    sid = new_id()
    video, audio, multi = new_id(), new_id(), new_id()
    docs = {
        video: {"format": "urn:x-nmos:format:video", "codec": "video/h264",
                "essence_parameters": {"frame_width": 1280, "frame_height": 720,
                                       "frame_rate": {"numerator": 25}},
                "tags": {"one": ["solo"], "plain": "[x]"}},
        audio: {"format": "urn:x-nmos:format:audio", "codec": "audio/aac",
                "essence_parameters": {"sample_rate": 48000, "channels": 2},
                "tags": {"genre": ["news", "sport"], "none": []}},
        multi: {"format": "urn:x-nmos:format:multi",
                "flow_collection": [{"id": video, "role": "video"},
                                    {"id": audio, "role": "audio"}]},
    }
    for fid, doc in docs.items():
        doc.update(id=fid, source_id=new_id() if fid != multi else sid, container="video/mp2t")
        r = src.put(f"/flows/{fid}", json=doc)
        assert r.status_code == 201, r.text
    r = tams("copy", multi, "--from", src.api, "--to", dst.api)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert f"flow {audio}: tag 'genre' holds 2 values" in r.stderr, r.stderr
    assert "--first-value" in r.stderr and "Sanitizer" not in r.stderr
    for fid in docs:
        assert dst.get(f"/flows/{fid}").status_code == 404, fid
    assert dst.get("/sources").json() == []
    # to an 8.2 server: as they are
    c = make_server().at("8.2")
    ok(tams("copy", multi, "--from", src.api, "--to", c.api))
    for fid in (video, audio):
        assert c.get(f"/flows/{fid}").json()["tags"] == docs[fid]["tags"]
    ok(tams("copy", multi, "--from", src.api, "--to", dst.api, "--first-value"))
    got = {fid: dst.get(f"/flows/{fid}").json() for fid in docs}
    for doc in got.values():
        dst.validate(doc, "flow.json")
    assert got[video]["tags"] == {"one": "solo", "plain": "[x]"}
    assert got[audio]["tags"] == {"genre": "news", "none": ""}
    assert "tags" not in got[multi] or got[multi]["tags"] == {}
    assert "--first-value" in ok(tams("help", "copy")).stdout
