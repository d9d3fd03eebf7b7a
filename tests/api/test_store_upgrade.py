# SPDX-License-Identifier: Apache-2.0
"""A store made by an earlier release, opened by the tamsd under test (issue 19, item 4).

tests/data/store-0.1.0-397d019 holds what scripts/make-store-fixture.sh left: the release's
data directory on SQLite (sqlite/) and on PostgreSQL (pg/, with the pg_dump of its schema), and
beside each a manifest.json of every write made and every document the release then showed.
Each test copies the fixture (restoring the dump into a fresh schema on PostgreSQL, as conftest
names it), starts tamsd on it (the migrations run), and checks:
- every document reads back through /tams/v7.0 exactly as the release showed it;
- through /tams/v8.2 every document validates against the 8.2 schemas (an area whose 8.2
  change has not landed can be marked with the change's number: xfail, not strict);
- writes work after the upgrade (restore from the trash included), and a second start changes
  nothing.
"""
import datetime
import json
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from conftest import (ON_PG, ROOT, TEST_DATABASE, S3TestServer, check_error, pg_schema_url, psql,
                      validate)

FIXTURE = ROOT / "tests" / "data" / "store-0.1.0-397d019"
KIND = "pg" if ON_PG else "sqlite"
MANIFEST = json.loads((FIXTURE / KIND / "manifest.json").read_text())
IDS = MANIFEST["ids"]
# The settings the fixture was made with where they decide what stays readable.
ARGS = ["--soft-delete-retention", "31536000", "--delete-request-ttl", "31536000",
        "--gc-interval", "1", "--webhooks-allow-private", "true"]
EXTENSIONS = ("/analytics", "/trash")
S3_ID = "0c7d9a3e-5b1f-4e2a-8d6c-9f0e1a2b3c4d"  # the fixture's S3 backend (make-store-fixture.sh)
URL_RE = re.compile(r"^http://127\.0\.0\.1:\d+(/tams/v\d+\.\d+)?")


def open_fixture(make_server, tmp, s3s):
    """A started server on a fresh copy of the fixture, with its S3 backend: the S3 test server
    on a copy of the fixture's bucket (appended to s3s, for the caller to stop), its endpoint in
    the storage config the fixture was made with."""
    tmp = pathlib.Path(tmp)
    data = tmp / "upgraded"
    shutil.copytree(FIXTURE / KIND, data)
    for name in ("manifest.json", "tams.sql"):
        (data / name).unlink(missing_ok=True)
    s3 = S3TestServer(tmp / "s3", "AKIAIOSFODNN7EXAMPLE",
                      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-2")
    shutil.move(data / "s3", tmp / "s3" / "data")
    s3s.append(s3.start())
    conf = json.loads((data / "storage.json").read_text())
    conf["backends"][0]["endpoints"] = [f"http://127.0.0.1:{s3.port}"]
    (tmp / "storage.json").write_text(json.dumps(conf))
    (data / "storage.json").unlink()
    if ON_PG:
        schema = re.search(r"search_path%3D(\w+)", pg_schema_url(data)).group(1)
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        dump = (FIXTURE / "pg" / "tams.sql").read_text().replace("tams_store_fixture", schema)
        subprocess.run(["psql", TEST_DATABASE, "-v", "ON_ERROR_STOP=1", "-q"], input=dump,
                       check=True, capture_output=True, text=True, timeout=120)
    return make_server(args=ARGS + ["--storage-config", str(tmp / "storage.json")],
                       data_dir=data)


def norm(x):
    """A document without what differs between two servers on one store: the host and port
    (and version prefix) of the URLs a server makes, and the signature of signed URLs."""
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, str) and URL_RE.match(x):
        return URL_RE.sub("BASE", x).split("?")[0]
    return x


def read(view, path):
    r = view.get(path)
    body = r.json() if r.content else None
    if r.status_code >= 400:
        check_error(r, r.status_code)
        body = {k: v for k, v in body.items() if k != "time"}
    return r.status_code, norm(body)


def expected(path):
    e = MANIFEST["reads"][path]
    body = e["body"]
    if e["status"] >= 400:
        body = {k: v for k, v in body.items() if k != "time"}
    return e["status"], norm(body)


def past(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")) < \
        datetime.datetime.now(datetime.timezone.utc)


def wait_pending(srv):
    """The deletion request the release was stopped in the middle of finishes after the upgrade."""
    rid = IDS["deletion_pending"]
    deadline = time.time() + 60
    while True:
        r = srv.at("7.0").get(f"/flow-delete-requests/{rid}")
        assert r.status_code == 200, r.text
        validate(r.json(), "deletion-request.json")
        if r.json()["status"] == "done":
            return r.json()
        assert time.time() < deadline, r.json()
        time.sleep(0.1)


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    from conftest import Server
    tmp = tmp_path_factory.mktemp("upgrade")
    servers = []

    def make(args, data_dir):
        s = Server(tmp / f"s{len(servers)}", args=args, data_dir=data_dir)
        s.tmp.mkdir(parents=True, exist_ok=True)
        servers.append(s)
        return s.start()

    s3s = []
    srv = open_fixture(make, tmp, s3s)
    wait_pending(srv)
    yield srv
    for s in servers:
        s.stop()
    for s in s3s:
        s.stop()


def test_the_pending_deletion_finishes(upgraded):
    body = wait_pending(upgraded)
    assert body["flow_id"] == IDS["flows"]["pending"]
    assert body["timerange_remaining"] == "()"
    check_error(upgraded.at("7.0").get(f"/flows/{IDS['flows']['pending']}"), 404)
    assert MANIFEST["pending_state_at_fill"]["status"] != "done"


def test_every_document_reads_as_the_release_showed_it(upgraded):
    v70 = upgraded.at("7.0")
    checked = 0
    for path in MANIFEST["reads"]:
        status, body = expected(path)
        got_status, got = read(upgraded if path.startswith(EXTENSIONS) else v70, path)
        if path == "/flow-delete-requests":  # the pending request is new since the reads
            got = [d for d in got if d["id"] != IDS["deletion_pending"]]
            body = [d for d in body if not past(d["expiry"])]
        elif path == "/sources?limit=1000":  # so is the pending flow's source
            got = [d for d in got if d["id"] != IDS["sources"]["pending"]]
        elif path == "/trash":  # the pending deletion's flow went to the trash since
            got = [d for d in got if d["flow_id"] != IDS["flows"]["pending"]]
            body = [d for d in body if not past(d["expires"])]
        elif path.startswith("/flow-delete-requests/") and past(body["expiry"]):
            status, body = 404, got
        if not path.startswith(EXTENSIONS):
            check_doc(v70, path, got_status, v70.get(path).json())
        assert (got_status, got) == (status, body), path
        checked += 1
    assert checked > 60


# Areas of the API, each document's schema in 7.0 and in 8.2 ("[x]": a list of x), and the
# 8.2 change (docs/tams-8.2-changes.md) until whose landing the 8.2 documents may not validate.
AREAS = {
    "service": (r"^/service$", "service.json", "service.json", None),
    "storage-backends": (r"^/service/storage-backends$", "storage-backends-list.json",
                         "storage-backends-list.json", None),
    "webhooks": (r"^/service/webhooks$", "[webhook.json]", "[webhook-get.json]", None),
    "sources": (r"^/sources\?", "[source.json]", "[source.json]", None),
    "source": (r"^/sources/[^/]+$", "source.json", "source.json", None),
    "flows": (r"^/flows\?", "[flow.json]", "[flow-get.json]", None),
    "flow": (r"^/flows/[^/]+$", "flow.json", "flow-get.json", None),
    "segments": (r"^/flows/[^/]+/segments", "[flow-segment.json]", "[flow-segment.json]", None),
    "tags": (r"/tags$", "tags.json", "tags.json", None),
    "objects": (r"^/objects/", "object.json", "object.json", None),
    "deletion-requests": (r"^/flow-delete-requests$", "[deletion-request.json]",
                          "[deletion-request.json]", None),
    "deletion-request": (r"^/flow-delete-requests/", "deletion-request.json",
                         "deletion-request.json", None),
}


def check_doc(view, path, status, body):
    """body (the answer to GET path under view) validates against its version's schema."""
    if status >= 400:
        view.validate(body, "error.json")
        return
    for pattern, s70, s82, _ in AREAS.values():
        if re.search(pattern, path):
            schema = s82 if view.version == "8.2" else s70
            for item in body if schema.startswith("[") else [body]:
                view.validate(item, schema.strip("[]"))
            return
    raise AssertionError(f"no schema for {path}")


def area_param(name):
    change = AREAS[name][3]
    marks = [pytest.mark.xfail(strict=False, reason=f"8.2 change {change} not landed")] \
        if change else []
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("area", [area_param(a) for a in AREAS])
def test_every_document_validates_under_82(upgraded, area):
    v82 = upgraded.at("8.2")
    paths = [p for p in MANIFEST["reads"] if re.search(AREAS[area][0], p)]
    assert paths
    for path in paths:
        r = v82.get(path)
        assert r.status_code == MANIFEST["reads"][path]["status"], (path, r.text)
        check_doc(v82, path, r.status_code, r.json())


@pytest.fixture
def s3s():
    servers = []
    yield servers
    for s in servers:
        s.stop()


def test_writes_after_the_upgrade_and_a_second_start_is_a_no_op(make_server, tmpdir_path, s3s):
    srv = open_fixture(make_server, tmpdir_path, s3s)
    v70, v82 = srv.at("7.0"), srv.at("8.2")
    wait_pending(srv)
    flows, sources = IDS["flows"], IDS["sources"]
    # A new flow whose segment uses an object the release stored (now used by three flows).
    new = "3b4c1d0e-8f2a-4b6c-9d1e-5f7a8b9c0d1e"
    r = v70.put(f"/flows/{new}", json={
        "id": new, "source_id": sources["video"], "format": "urn:x-nmos:format:video",
        "codec": "video/h264", "container": "video/mp2t", "tags": {"after": "upgrade"},
        "essence_parameters": {"frame_rate": {"numerator": 25}, "frame_width": 64,
                               "frame_height": 36}})
    assert r.status_code == 201, r.text
    obj = IDS["objects"]["video"][0]
    r = v70.post(f"/flows/{new}/segments", json={"object_id": obj, "timerange": "[0:0_1:0)"})
    assert r.status_code == 201, r.text
    refs = v70.get(f"/objects/{obj}").json()["referenced_by_flows"]
    assert sorted(refs) == sorted([flows["video"], flows["video_no_rate"], new])
    # The uploaded media still reads, through the get_urls made now.
    seg = v70.get(f"/flows/{new}/segments").json()[0]
    media = srv.session.get(seg["get_urls"][0]["url"], timeout=30)
    assert media.status_code == 200 and media.content[:1] == b"\x47"  # an MPEG-TS sync byte
    # The object in the S3 backend too, and a new one there.
    audio = v70.get(f"/flows/{flows['audio']}/segments?timerange=[2:0_3:0)").json()
    assert [s["object_id"] for s in audio] == IDS["objects"]["s3"]
    media = srv.session.get(audio[0]["get_urls"][0]["url"], timeout=30)
    assert media.status_code == 200 and media.content[:1] == b"\x47"
    r = v70.post(f"/flows/{new}/storage", json={"limit": 1, "storage_id": S3_ID})
    assert r.status_code == 201, r.text
    put = r.json()["media_objects"][0]["put_url"]
    u = srv.session.put(put["url"], data=media.content,
                        headers={"Content-Type": put["content-type"]}, timeout=30)
    assert u.status_code == 200, u.text
    r = v70.post(f"/flows/{new}/segments", json={
        "object_id": r.json()["media_objects"][0]["object_id"], "timerange": "[1:0_2:0)"})
    assert r.status_code == 201, r.text
    # Tags and properties on the release's items.
    assert v70.put(f"/flows/{flows['audio']}/tags/after", json="upgrade").status_code == 204
    assert v70.get(f"/flows/{flows['audio']}/tags").json()["channel_layout"] == "stereo"
    # The read-only flow stays read-only.
    check_error(v70.put(f"/flows/{flows['video_no_rate']}/tags/x", json="y"), 403)
    # Restoring the release's trash entries gives back the flow, its source and the range.
    entries = srv.get("/trash").json()
    assert {e["kind"] for e in entries} == {"flow", "segments"}
    for e in entries:
        assert srv.post(f"/trash/{e['id']}/restore").status_code == 204
    gone = v70.get(f"/flows/{flows['trashed']}").json()
    assert gone["tags"] == {"keep": "no"} and gone["label"] == "to the bin"
    assert v70.get(f"/sources/{sources['trashed']}").json()["tags"] == {"bin": "yes"}
    assert [s["timerange"] for s in v70.get(f"/flows/{flows['trashed']}/segments").json()] == \
        ["[0:0_1:0)"]
    assert "[20:0_21:0)" in [s["timerange"] for s in
                             v70.get(f"/flows/{flows['data']}/segments").json()]
    # A 7.0 webhook re-POST of the release's keyed webhook.
    r = v70.post("/service/webhooks", json={"url": "http://127.0.0.1:9/hook-keyed",
                                            "api_key_name": "X-Api-Key",
                                            "api_key_value": "new", "events": ["flows/created"]})
    assert r.status_code in (200, 201), r.text
    assert v82.get("/service").status_code == 200
    # A second start on the same store: the same documents, the same schema.
    before = snapshot(srv)
    shape = schema_shape(srv)
    srv.stop()
    srv.start()
    assert schema_shape(srv) == shape
    assert snapshot(srv) == before


def snapshot(srv):
    v70 = srv.at("7.0")
    out = {}
    for path in MANIFEST["reads"]:
        out[path] = read(srv if path.startswith(EXTENSIONS) else v70, path)
    return out


def schema_shape(srv):
    """The store's tables, columns and schema version, from the database itself."""
    if ON_PG:
        url = pg_schema_url(srv.data_dir)
        return psql("SELECT table_name, column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = current_schema() ORDER BY 1, 2", url) + \
            psql("SELECT * FROM tams_schema", url)
    import sqlite3
    with sqlite3.connect(srv.data_dir / "tams.db") as db:
        return (db.execute("PRAGMA user_version").fetchone(),
                db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall())
