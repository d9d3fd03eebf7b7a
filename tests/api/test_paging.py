# SPDX-License-Identifier: Apache-2.0
"""Keyset paging of /flows and /sources: Link, X-Paging-* headers, clamping, cursors."""
import base64
import re
import urllib.parse
import uuid

import pytest

from conftest import Server, VIDEO_RATE, check_error, validate

VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
TOTAL = 250
LINK_RE = re.compile(r'^<([^>]+)>; rel="next"$')


def flow_doc(fmt=VIDEO, **extra):
    doc = {"id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()), "format": fmt}
    if fmt == VIDEO:
        doc.update(codec="video/h264",
                   essence_parameters={"frame_width": 1920, "frame_height": 1080, **VIDEO_RATE})
    else:
        doc.update(codec="audio/aac", essence_parameters={"sample_rate": 48000, "channels": 2})
    doc.update(extra)
    return doc


def put_many(srv, n, **extra):
    docs = []
    for i in range(n):
        doc = flow_doc(AUDIO if i % 2 else VIDEO, **extra)
        if i % 5 == 0:
            doc["tags"] = {"odd name/&=": "v a+l"}
        r = srv.put(f"/flows/{doc['id']}", json=doc)
        assert r.status_code == 201, r.text
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def paged(tmp_path_factory):
    """One server with TOTAL flows (and so TOTAL sources), shared by the read-only tests."""
    srv = Server(tmp_path_factory.mktemp("paging"))
    srv.start()
    docs = put_many(srv, TOTAL)
    yield srv, docs
    srv.stop()


def twin(srv, path_or_url, **kw):
    url = path_or_url if path_or_url.startswith("http") else srv.url + path_or_url
    g = srv.session.get(url, timeout=30, **kw)
    h = srv.session.head(url, timeout=30, **kw)
    assert h.status_code == g.status_code, (url, g.status_code, h.status_code)
    assert h.content == b""
    for name in ("Link", "X-Paging-Limit", "X-Paging-NextKey", "Content-Type",
                 "Content-Length"):
        assert h.headers.get(name) == g.headers.get(name), (url, name)
    return g


def link_of(resp):
    link = resp.headers.get("Link")
    if link is None:
        return None
    m = LINK_RE.match(link)
    assert m, link
    return m.group(1)


def walk(srv, path, limit, via="link", between=None, schema=None):
    """Pages through path; returns the list of pages (each a list of ids)."""
    sep = "&" if "?" in path else "?"
    url = f"{srv.url}{path}{sep}limit={limit}"
    pages = []
    while True:
        r = twin(srv, url)
        assert r.status_code == 200, r.text
        assert r.headers["X-Paging-Limit"] == str(limit)
        body = r.json()
        if schema:
            for item in body:
                validate(item, schema)
        pages.append([x["id"] for x in body])
        key = r.headers.get("X-Paging-NextKey")
        link = link_of(r)
        assert (key is None) == (link is None), r.headers
        if key is None:
            break
        assert len(body) == limit
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query,
                                            keep_blank_values=True))
        assert query["page"] == key
        if between:
            between()
        if via == "link":
            url = link
        else:
            url = f"{srv.url}{path}{sep}limit={limit}&page={urllib.parse.quote(key, safe='')}"
        assert len(pages) < 1000
    return pages


@pytest.mark.parametrize("via", ["link", "nextkey"])
@pytest.mark.parametrize("resource", ["flows", "sources"])
def test_walk_all_pages(paged, resource, via):
    srv, docs = paged
    pages = walk(srv, f"/{resource}", 100, via=via,
                 schema="flow.json" if resource == "flows" else "source.json")
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [i for p in pages for i in p]
    key = "id" if resource == "flows" else "source_id"
    assert sorted(seen) == sorted(d[key] for d in docs)
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("resource", ["flows", "sources"])
def test_exact_multiple_has_no_empty_last_page(paged, resource):
    srv, _ = paged
    pages = walk(srv, f"/{resource}", 125)
    assert [len(p) for p in pages] == [125, 125]
    r = twin(srv, f"/{resource}?limit={TOTAL}")
    assert len(r.json()) == TOTAL and "Link" not in r.headers
    assert "X-Paging-NextKey" not in r.headers


@pytest.mark.parametrize("resource", ["flows", "sources"])
def test_limit_clamped_and_default(paged, resource):
    srv, _ = paged
    r = twin(srv, f"/{resource}")
    assert r.headers["X-Paging-Limit"] == "100" and len(r.json()) == 100
    for big in ("1001", "5000", "9223372036854775807"):
        r = twin(srv, f"/{resource}?limit={big}")
        assert r.status_code == 200, r.text
        assert r.headers["X-Paging-Limit"] == "1000"
        assert len(r.json()) == TOTAL
    for bad in ("0", "-1", "abc", "", "1.5", "99999999999999999999999", "1&limit=2"):
        check_error(srv.get(f"/{resource}?limit={bad}"), 400)
        assert srv.head(f"/{resource}?limit={bad}").status_code == 400


def test_page_limit_max_option(make_server):
    srv = make_server(args=["--page-limit-max", "50", "--page-limit-default", "20"])
    put_many(srv, 60)
    for resource in ("flows", "sources"):
        r = twin(srv, f"/{resource}")
        assert r.headers["X-Paging-Limit"] == "20" and len(r.json()) == 20
        r = twin(srv, f"/{resource}?limit=1000")
        assert r.headers["X-Paging-Limit"] == "50" and len(r.json()) == 50
        assert "page=" in link_of(r)
        # The Link keeps the limit the client asked for; the next page is clamped again.
        r2 = twin(srv, link_of(r))
        assert r2.headers["X-Paging-Limit"] == "50" and len(r2.json()) == 10
        assert "Link" not in r2.headers


def test_link_keeps_every_other_parameter(paged):
    srv, docs = paged
    tag_name = "odd name/&="
    query = [("format", AUDIO), ("tag." + tag_name, "v a+l"), ("access_token", "t/o+k=n&x"),
             ("limit", "10")]
    qs = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    expected = sorted(d["id"] for d in docs
                      if d["format"] == AUDIO and d.get("tags", {}).get(tag_name) == "v a+l")
    assert len(expected) == TOTAL // 10
    r = twin(srv, "/flows?" + qs)
    seen = [f["id"] for f in r.json()]
    assert len(seen) == 10
    while True:
        link = link_of(r)
        if not link:
            break
        parts = urllib.parse.urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == srv.url
        assert parts.path == "/flows"
        got = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        assert sorted(p for p in got if p[0] != "page") == sorted(query)
        assert [p[0] for p in got].count("page") == 1
        r = twin(srv, link)
        assert r.status_code == 200, r.text
        seen += [f["id"] for f in r.json()]
    assert sorted(seen) == expected and len(set(seen)) == len(seen)


def test_link_uses_the_request_host(paged):
    srv, _ = paged
    r = srv.get("/sources?limit=5", headers={"Host": "tams.example:8443"})
    assert link_of(r).startswith(f"http://tams.example:8443{srv.base_path}/sources?")
    h = srv.head("/sources?limit=5", headers={"Host": "tams.example:8443"})
    assert h.headers["Link"] == r.headers["Link"]


@pytest.mark.parametrize("resource", ["flows", "sources"])
def test_forged_page_keys(paged, resource):
    srv, _ = paged
    other = "sources" if resource == "flows" else "flows"
    other_key = srv.get(f"/{other}?limit=1").headers["X-Paging-NextKey"]
    own_key = srv.get(f"/{resource}?limit=1").headers["X-Paging-NextKey"]

    def b64(text):
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    forged = ["garbage", "!!!!", b64("hello world"), b64("v1|" + resource + "|not-a-uuid"),
              b64("v2|" + resource + "|" + str(uuid.uuid4())), b64("v1|" + resource + "|"),
              b64("v1|" + resource), own_key + "A", own_key[:-1], own_key + "=", "A" * 5000,
              other_key, b64("v1|" + resource + "|" + str(uuid.uuid4()).upper())]
    for key in forged:
        r = srv.get(f"/{resource}", params={"page": key})
        body = check_error(r, 400)
        assert "page" in body["summary"], (key, body)
        assert srv.head(f"/{resource}", params={"page": key}).status_code == 400
    check_error(srv.get(f"/{resource}?page="), 400)
    check_error(srv.get(f"/{resource}?page={own_key}&page={own_key}"), 400)
    # The genuine key still works.
    assert srv.get(f"/{resource}", params={"page": own_key}).status_code == 200


@pytest.mark.parametrize("resource", ["flows", "sources"])
def test_stable_under_concurrent_inserts(make_server, resource):
    srv = make_server()
    before = put_many(srv, 120)
    key = "id" if resource == "flows" else "source_id"
    added = []

    def insert():
        added.extend(put_many(srv, 15))

    pages = walk(srv, f"/{resource}", 25, between=insert)
    seen = [i for p in pages for i in p]
    assert len(set(seen)) == len(seen), "an item was listed twice"
    missing = {d[key] for d in before} - set(seen)
    assert not missing, f"{len(missing)} pre-existing items skipped"
    assert set(seen) <= {d[key] for d in before + added}


def test_filtered_paging_pages_full(paged):
    """Filters apply before paging: every page but the last is full."""
    srv, docs = paged
    expected = sorted(d["id"] for d in docs if d["format"] == VIDEO)
    pages = walk(srv, "/flows?format=" + urllib.parse.quote(VIDEO, safe=""), 40)
    assert all(len(p) == 40 for p in pages[:-1])
    assert sorted(i for p in pages for i in p) == expected
    sources = walk(srv, "/sources?format=" + urllib.parse.quote(AUDIO, safe=""), 40)
    assert sorted(i for p in sources for i in p) == sorted(
        d["source_id"] for d in docs if d["format"] == AUDIO)


def test_link_of_the_longest_query(paged):
    """The Link repeats the query. It is encoded compactly (a space as '+'); when it cannot fit
    beside the request in the connection's header memory the answer is 414, never a NextKey
    without a Link nor a dropped connection."""
    srv, _ = paged
    for n in (2000, 5000):
        r = twin(srv, f"/flows?limit=100&access_token={'+' * n}")
        assert r.status_code == 200
        link = link_of(r)
        assert link and r.headers.get("X-Paging-NextKey"), n
        assert len(link) < n + 200
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query,
                                            keep_blank_values=True))
        assert query["access_token"] == " " * n
        assert query["page"] == r.headers["X-Paging-NextKey"]
        assert len(twin(srv, link).json()) == 100
    for query in ("access_token=" + "+" * 8000, "access_token=" + "a" * 8000,
                  "label=" + "%C3%A9" * 1300):
        for resource in ("flows", "sources"):
            path = f"/{resource}?limit=1&" + query
            if "label" in query:
                path += "&tag_exists.x=false"
            r = srv.get(path)
            if "label" in query:
                # No next page: nothing to repeat, the long query is fine.
                assert r.status_code == 200 and r.json() == [], r.text
                continue
            body = check_error(r, 414)
            assert "Link" in body["summary"] or "long" in body["summary"]
            h = srv.head(path)
            assert h.status_code == 414 and h.content == b""
    assert srv.get("/flows?limit=1").status_code == 200


def test_link_under_public_url_with_prefix(make_server):
    srv = make_server(args=["--public-url", "https://tams.example/tams/v7.0"])
    srv.base_path = ""  # the paths below name the mount prefix themselves
    put_many(srv, 3)
    for path in ("/tams/v7.0/flows?limit=1", "/flows?limit=1"):
        link = link_of(twin(srv, path))
        assert link.startswith("https://tams.example/tams/v7.0/flows?limit=1&page="), link
    r = srv.get("/tams/v7.0/sources?limit=2&tag_exists.x=false")
    assert link_of(r).startswith(
        "https://tams.example/tams/v7.0/sources?limit=2&tag_exists.x=false&page=")
    # Following it (with the prefix, on this server) gives the last item.
    key = r.headers["X-Paging-NextKey"]
    last = srv.get(f"/tams/v7.0/sources?limit=2&tag_exists.x=false&page={key}")
    assert len(last.json()) == 1 and "Link" not in last.headers
