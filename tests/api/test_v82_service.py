# SPDX-License-Identifier: Apache-2.0
"""TAMS 8.2's GET /service (change 1: min_object_timeout, min_presigned_url_timeout) and
GET /service/storage-backends (change 5: tags, paging, filters), against the 7.0 view."""


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
