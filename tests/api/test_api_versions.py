"""Version prefixes (issue 19, docs/api-versions.md): every TAMS route at the root and under
/tams/v7.0 alike, /tams/v8.2 over the same store, links that keep the prefix a request came
under, the extensions at the root only, and the root_api_version setting.
These tests name their paths in full, so they run the same with TAMS_TEST_BASE_PATH set."""
import subprocess
import uuid

import pytest

from conftest import BIN, SPEC82, check_error, load_schema, validate

V70 = "/tams/v7.0"
V82 = "/tams/v8.2"
VIDEO = "urn:x-nmos:format:video"


def raw(srv, method, path, **kw):
    """A request to exactly path, whatever TAMS_TEST_BASE_PATH says."""
    kw.setdefault("timeout", 30)
    return srv.session.request(method, srv.url + path, **kw)


def make_flow(srv, prefix=""):
    fid = str(uuid.uuid4())
    doc = {"id": fid, "source_id": str(uuid.uuid4()), "format": VIDEO, "codec": "video/h264",
           "container": "video/mp2t",
           "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
    r = raw(srv, "PUT", f"{prefix}/flows/{fid}", json=doc)
    assert r.status_code == 201, r.text
    return fid


@pytest.mark.parametrize("prefix,version", [("", "7.0"), (V70, "7.0"), (V82, "8.2")])
def test_service_reports_the_version_of_its_prefix(server, prefix, version):
    r = raw(server, "GET", f"{prefix}/service")
    assert r.status_code == 200, r.text
    assert r.json()["api_version"] == version
    if version == "7.0":  # 8.2's /service has required keys of its own (test_v82_service.py)
        validate(r.json(), "service.json")


def test_prefix_serves_the_same_store_as_the_root(server):
    fid = make_flow(server, V70)
    root = raw(server, "GET", f"/flows/{fid}")
    pre = raw(server, "GET", f"{V70}/flows/{fid}")
    assert root.status_code == pre.status_code == 200
    assert root.json() == pre.json()
    validate(pre.json(), "flow.json")
    r = raw(server, "PUT", f"{V70}/flows/{fid}/label", json="from the prefix")
    assert r.status_code == 204, r.text
    assert raw(server, "GET", f"/flows/{fid}/label").json() == "from the prefix"
    r = raw(server, "HEAD", f"{V70}/flows/{fid}")
    assert r.status_code == 200 and r.content == b""
    assert raw(server, "GET", V70).json() == raw(server, "GET", "/").json()
    assert raw(server, "GET", V70 + "/").json() == raw(server, "GET", "/").json()


@pytest.mark.parametrize("prefix", ["", V70])
def test_paging_links_keep_the_prefix(server, prefix):
    for _ in range(3):
        make_flow(server)
    r = raw(server, "GET", f"{prefix}/flows?limit=2")
    assert r.status_code == 200, r.text
    link = r.headers["Link"]
    assert link.startswith(f"<{server.url}{prefix}/flows?limit=2&page="), link
    nxt = link[1:link.index(">")]
    r2 = server.session.get(nxt, timeout=30)
    assert r2.status_code == 200 and len(r2.json()) == 1


def test_paging_links_keep_the_prefix_with_public_url(make_server):
    srv = make_server(args=["--public-url", "https://tams.example.com/media/"])
    for _ in range(3):
        make_flow(srv)
    # The mount prefix of public_url is removed first, then the version prefix.
    r = raw(srv, "GET", f"/media{V70}/flows?limit=2")
    assert r.status_code == 200, r.text
    assert r.headers["Link"].startswith(f"<https://tams.example.com/media{V70}/flows?limit=2&")
    r = raw(srv, "GET", "/flows?limit=2")
    assert r.headers["Link"].startswith("<https://tams.example.com/media/flows?limit=2&")


@pytest.mark.parametrize("prefix", ["", V70])
def test_deletion_location_keeps_the_prefix(make_server, prefix):
    srv = make_server(args=["--delete-sync-limit", "1"])  # 2 segments: a deletion request
    fid = make_flow(srv)
    segs = [{"object_id": f"ext-{i}", "timerange": f"[{i}:0_{i + 1}:0)",
             "get_urls": [{"url": "http://media.example.com/x.ts", "label": "ext"}]}
            for i in range(2)]
    assert raw(srv, "POST", f"/flows/{fid}/segments", json=segs).status_code == 201
    r = raw(srv, "DELETE", f"{prefix}/flows/{fid}")
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"{srv.url}{prefix}/flow-delete-requests/{r.json()['id']}"
    assert srv.session.get(r.headers["Location"], timeout=30).status_code == 200


@pytest.mark.parametrize("prefix", ["", V70])
def test_built_in_store_urls_keep_the_prefix(server, prefix):
    fid = make_flow(server)
    r = raw(server, "POST", f"{prefix}/flows/{fid}/storage", json={"limit": 1})
    assert r.status_code == 201, r.text
    obj = r.json()["media_objects"][0]
    put = obj["put_url"]["url"]
    assert put.startswith(f"{server.url}{prefix}/_objects/"), put
    r = server.session.put(put, data=b"media bytes", headers={"Content-Type": "video/mp2t"},
                           timeout=30)
    assert r.status_code == 200, r.text
    seg = {"object_id": obj["object_id"], "timerange": "[0:0_1:0)"}
    assert raw(server, "POST", f"{prefix}/flows/{fid}/segments", json=seg).status_code == 201
    segs = raw(server, "GET", f"{prefix}/flows/{fid}/segments").json()
    url = segs[0]["get_urls"][0]["url"]
    assert url.startswith(f"{server.url}{prefix}/_objects/"), url
    assert server.session.get(url, timeout=30).content == b"media bytes"


def test_v82_serves_the_same_store(server):
    fid = make_flow(server, V70)
    for prefix in ("", V70, V82):
        r = raw(server, "GET", f"{prefix}/flows/{fid}")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == fid
    check_error(raw(server, "GET", f"{V82}/flows/{uuid.uuid4()}"), 404)
    check_error(raw(server, "GET", f"{V82}/nothing-here"), 404)


def test_unknown_versions_and_extensions_under_the_prefix(server):
    check_error(raw(server, "GET", "/tams/v7.1/flows"), 404)
    check_error(raw(server, "GET", "/tams/v7.0x/flows"), 404)
    check_error(raw(server, "GET", "/tams/flows"), 404)
    for path in ["/health", "/ready", "/metrics", "/analytics", "/analytics/storage",
                 f"/hls/flows/{uuid.uuid4()}.m3u8", "/trash", "/ui", "/ui/", "/ui/index.html"]:
        check_error(raw(server, "GET", V70 + path), 404)
        check_error(raw(server, "GET", V82 + path), 404)
    assert raw(server, "GET", "/health").status_code == 200
    assert raw(server, "GET", "/ready").status_code == 200
    assert raw(server, "GET", "/ui/").status_code == 200
    assert raw(server, "GET", "/analytics").status_code == 200


def test_errors_methods_and_options_alike_under_the_prefix(make_server):
    srv = make_server(args=["--cors-origins", "https://ui.example.com"])
    for prefix in ("", V70, V82):
        r = raw(srv, "POST", f"{prefix}/flows")
        check_error(r, 405)
        assert r.headers["Allow"] == "GET, HEAD, OPTIONS"
        r = raw(srv, "OPTIONS", f"{prefix}/flows/{uuid.uuid4()}",
                headers={"Origin": "https://ui.example.com",
                         "Access-Control-Request-Method": "PUT"})
        assert r.status_code == 204
        assert r.headers["Allow"] == "GET, HEAD, PUT, DELETE, OPTIONS"
        assert r.headers["Access-Control-Allow-Origin"] == "https://ui.example.com"
        check_error(raw(srv, "GET", f"{prefix}/nothing-here"), 404)


def run_tamsd(tmp, *args):
    return subprocess.run([BIN, "--listen", "127.0.0.1:0", "--data-dir", str(tmp / "d"),
                           *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})


def test_root_api_version_setting(make_server, tmpdir_path):
    r = run_tamsd(tmpdir_path, "--root-api-version", "6.0")
    assert r.returncode != 0
    assert "root_api_version = 6.0: unknown TAMS version" in r.stderr
    srv = make_server(args=["--root-api-version", "7.0"])
    assert raw(srv, "GET", "/service").json()["api_version"] == "7.0"
    srv = make_server(env={"TAMS_ROOT_API_VERSION": "7.0"})
    assert raw(srv, "GET", f"{V70}/service").json()["api_version"] == "7.0"
    srv = make_server(args=["--root-api-version", "8.2"])
    assert raw(srv, "GET", "/service").json()["api_version"] == "8.2"
    assert raw(srv, "GET", f"{V70}/service").json()["api_version"] == "7.0"
    assert raw(srv, "GET", f"{V82}/service").json()["api_version"] == "8.2"
    assert raw(srv, "GET", "/health").status_code == 200


def test_the_82_spec_loads_and_its_schemas_compile():
    import jsonschema
    import yaml
    doc = yaml.safe_load((SPEC82 / "TimeAddressableMediaStore.yaml").read_text())
    assert doc["info"]["version"] == "8.2"
    names = sorted(p.name for p in (SPEC82 / "schemas").glob("*.json"))
    assert "flow-get.json" in names and "webhook-get.json" in names
    for name in names:
        schema = load_schema(name, "8.2")
        jsonschema.validators.validator_for(schema).check_schema(schema)
    # $refs resolve against the 8.2 folder: a source whose tag has several values validates
    # there, and the 7.0 schema's string-only tags refuse it.
    source = {"id": str(uuid.uuid4()), "format": VIDEO, "tags": {"genre": ["news", "sport"]}}
    validate(source, "source.json", version="8.2")
    with pytest.raises(jsonschema.ValidationError):
        validate(source, "source.json")
