# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2's GET /service (change 1: min_object_timeout, min_presigned_url_timeout) and
GET /service/storage-backends (change 5: tags, paging, filters), against the 7.0 view."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN, check_error


def test_service_82_timeouts_from_defaults(v82, v70):
    body = v82.get("/service").json()
    v82.validate(body, "service.json")
    assert body["api_version"] == "8.2"
    # gc_unused_after 86400, put_url_expiry 600, media_url_expiry 3600
    assert body["min_object_timeout"] == "86400:0"
    assert body["min_presigned_url_timeout"] == "600:0"
    old = v70.get("/service").json()
    v70.validate(old, "service.json")
    assert "min_object_timeout" not in old and "min_presigned_url_timeout" not in old


def test_service_82_timeouts_follow_settings(make_server):
    srv = make_server(args=["--gc-unused-after", "900", "--put-url-expiry", "1200",
                            "--media-url-expiry", "700"])
    v82 = srv.at("8.2")
    body = v82.get("/service").json()
    v82.validate(body, "service.json")
    assert body["min_object_timeout"] == "900:0"
    # put_url_expiry is capped by media_url_expiry: the shorter is the least lifetime
    assert body["min_presigned_url_timeout"] == "700:0"
    assert "min_object_timeout" not in srv.at("7.0").get("/service").json()


def start_refused(tmpdir_path, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    return subprocess.run([BIN, "--listen", "127.0.0.1:0", "--data-dir",
                           str(tmpdir_path / "refused")] + args,
                          capture_output=True, text=True, env=env, timeout=30)


@pytest.mark.parametrize("args,named", [
    (["--gc-unused-after", "299"], "gc_unused_after 299 is below 300"),
    (["--put-url-expiry", "29"], "put_url_expiry 29 is below 30"),
    (["--media-url-expiry", "10"], "media_url_expiry 10 is below 30"),
    # min_presigned_url_timeout must not exceed min_object_timeout
    (["--gc-unused-after", "300"], "put_url_expiry 600 is more than gc_unused_after 300"),
    (["--gc-unused-after", "400", "--media-url-expiry", "500", "--put-url-expiry", "450"],
     "put_url_expiry 450 is more than gc_unused_after 400"),
])
def test_timeouts_below_the_82_floors_refused_at_start(tmpdir_path, args, named):
    """8.2's service schema: min_object_timeout MUST be 300:0 or more, min_presigned_url_timeout
    30:0 or more and at most min_object_timeout: tamsd does not start with settings that would
    promise less than it keeps (change 1)."""
    r = start_refused(tmpdir_path, args)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert named in r.stderr and "spec_timeout_floors" in r.stderr, r.stderr


def test_timeouts_at_the_floors_and_below_when_allowed(make_server):
    srv = make_server(args=["--gc-unused-after", "300", "--put-url-expiry", "30"])
    body = srv.at("8.2").get("/service").json()
    srv.at("8.2").validate(body, "service.json")
    assert (body["min_object_timeout"], body["min_presigned_url_timeout"]) == ("300:0", "30:0")
    # allowed (tests): reported as set, nothing invented
    srv = make_server(args=["--gc-unused-after", "2", "--media-url-expiry", "1",
                            "--spec-timeout-floors", "false"])
    body = srv.at("8.2").get("/service").json()
    assert (body["min_object_timeout"], body["min_presigned_url_timeout"]) == ("2:0", "1:0")


# --- storage backends (change 5) ---------------------------------------------------------

A_ID = "0a1b2c3d-1111-4aaa-8bbb-000000000001"
B_ID = "0a1b2c3d-2222-4aaa-8bbb-000000000002"
C_ID = "0a1b2c3d-3333-4aaa-8bbb-000000000003"


def s3_backend(s3, bid, label, **extra):
    doc = {"id": bid, "label": label, "type": "s3", "provider": "test",
           "store_product": "tams s3server", "region": s3.region,
           "endpoints": [f"http://127.0.0.1:{s3.port}"], "bucket": "tams-media",
           "prefix": f"{label}/", "access_key": s3.access_key, "secret_key": s3.secret_key}
    doc.update(extra)
    return doc


def tagged_config(s3):
    return {"local": {"tags": {"tier": "hot", "site": ["london"]}},
            "backends": [
                s3_backend(s3, C_ID, "c-archive", tags={"tier": "archive",
                                                         "site": ["leeds", "london"]}),
                s3_backend(s3, A_ID, "a-edge", tags={"tier": "hot"}),
                s3_backend(s3, B_ID, "b-plain"),
            ]}


@pytest.fixture
def tagged(make_server, tmpdir_path, s3_test_server):
    conf = tmpdir_path / "storage.json"
    conf.write_text(json.dumps(tagged_config(s3_test_server)))
    return make_server(args=["--storage-config", str(conf)])


def labels(resp):
    return [b["label"] for b in resp.json()]


def test_backends_82_tags_and_label_order(tagged):
    v82 = tagged.at("8.2")
    r = v82.get("/service/storage-backends")
    assert r.status_code == 200
    v82.validate(r.json(), "storage-backends-list.json")
    assert labels(r) == ["a-edge", "b-plain", "c-archive", "local"]
    by = {b["label"]: b for b in r.json()}
    assert by["c-archive"]["tags"] == {"tier": "archive", "site": ["leeds", "london"]}
    assert by["local"]["tags"] == {"tier": "hot", "site": ["london"]}
    assert "tags" not in by["b-plain"]
    assert r.headers["X-Paging-Count"] == "4"
    assert "Link" not in r.headers
    r = v82.get("/service/storage-backends", params={"reverse_order": "true"})
    assert labels(r) == ["local", "c-archive", "b-plain", "a-edge"]
    assert r.headers["X-Paging-Reverse-Order"] == "true"


def test_backends_70_unchanged(tagged):
    v70 = tagged.at("7.0")
    r = v70.get("/service/storage-backends")
    v70.validate(r.json(), "storage-backends-list.json")
    # configuration order, the built-in store first, no tags, no paging
    assert labels(r) == ["local", "c-archive", "a-edge", "b-plain"]
    assert all("tags" not in b for b in r.json())
    assert "X-Paging-Limit" not in r.headers and "Link" not in r.headers
    assert r.json() == tagged.get("/service/storage-backends").json()


@pytest.mark.parametrize("params,expect", [
    ({"tag.tier": "hot"}, ["a-edge", "local"]),
    ({"tag.tier": "archive,cold"}, ["c-archive"]),
    ({"tag.site": "london"}, ["c-archive", "local"]),
    ({"tag.site": "leeds"}, ["c-archive"]),
    ({"tag.site": "lond"}, []),
    ({"tag_exists.site": "true"}, ["c-archive", "local"]),
    ({"tag_exists.tier": "false"}, ["b-plain"]),
    ({"tag.tier": "hot", "tag_exists.site": "false"}, ["a-edge"]),
])
def test_backends_82_tag_filters(tagged, params, expect):
    v82 = tagged.at("8.2")
    r = v82.get("/service/storage-backends", params=params)
    assert r.status_code == 200, r.text
    v82.validate(r.json(), "storage-backends-list.json")
    assert labels(r) == expect


def test_backends_82_paging(tagged):
    v82 = tagged.at("8.2")
    seen, url, pages = [], None, 0
    r = v82.get("/service/storage-backends", params={"limit": "3", "reverse_order": "true"})
    while True:
        assert r.status_code == 200
        v82.validate(r.json(), "storage-backends-list.json")
        assert r.headers["X-Paging-Limit"] == "3"
        seen += labels(r)
        pages += 1
        m = re.match(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
        if not m:
            break
        url = m.group(1)
        assert url.startswith(v82.api + "/service/storage-backends?")
        assert "reverse_order=true" in url
        r = tagged.session.get(url, timeout=30)
    assert pages == 2
    assert seen == ["local", "c-archive", "b-plain", "a-edge"]


@pytest.mark.parametrize("params", [{"page": "9"}, {"page": "x"}, {"page": "0"},
                                    {"limit": "0"}, {"reverse_order": "maybe"},
                                    {"tag_exists.tier": "1"}, {"sort_by": "label"}])
def test_backends_82_bad_query(tagged, params):
    check_error(tagged.at("8.2").get("/service/storage-backends", params=params), 400)


@pytest.mark.parametrize("tags,message", [
    ({"tier": 3}, "tier"),
    ({"tier": ["a", 1]}, "tier"),
    ("hot", "tags"),
    ({"": "x"}, "tag name"),
])
def test_bad_tags_stop_the_start(make_server, tmpdir_path, s3_test_server, tags, message):
    doc = {"backends": [s3_backend(s3_test_server, A_ID, "a", tags=tags)]}
    conf = tmpdir_path / "bad.json"
    conf.write_text(json.dumps(doc))
    srv = make_server(args=["--storage-config", str(conf)], start=False)
    with pytest.raises(AssertionError) as e:
        srv.start()
    assert message in str(e.value)
    srv.proc = None
