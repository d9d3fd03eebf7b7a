# SPDX-License-Identifier: Apache-2.0
"""Parallel writers on one flow: no 5xx, a final state that one of them wrote, one source."""
import threading
import uuid

import requests

from conftest import VIDEO_RATE, validate

THREADS = 8
ROUNDS = 12
SERVER_MEMBERS = ("created", "metadata_updated", "segments_updated", "created_by", "updated_by",
                  "collected_by", "timerange")


def body_for(fid, sid, t, i):
    return {"id": fid, "source_id": sid, "format": "urn:x-nmos:format:video",
            "codec": "video/h264", "label": f"writer {t} round {i}",
            "tags": {"writer": str(t), "round": str(i)},
            "essence_parameters": {"frame_width": 640 + t, "frame_height": 480 + i, **VIDEO_RATE}}


def run_threads(target):
    errors = []
    barrier = threading.Barrier(THREADS)

    def wrap(t):
        try:
            barrier.wait(timeout=30)
            target(t)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=wrap, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors


def test_parallel_puts_of_one_flow(server):
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sent = []
    statuses = []
    lock = threading.Lock()

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            doc = body_for(fid, sid, t, i)
            r = s.put(f"{server.url}/flows/{fid}", json=doc, timeout=30)
            with lock:
                sent.append(doc)
                statuses.append(r.status_code)
            assert r.status_code in (201, 204), (r.status_code, r.text)

    run_threads(writer)
    assert statuses.count(201) == 1, statuses
    final = server.get(f"/flows/{fid}").json()
    validate(final, "flow.json")
    client = {k: v for k, v in final.items() if k not in SERVER_MEMBERS}
    assert client in sent
    sources = [s for s in server.get("/sources?limit=1000").json() if s["id"] == sid]
    assert len(sources) == 1
    flows = server.get("/flows?limit=1000").json()
    assert [f["id"] for f in flows] == [fid]


def test_parallel_puts_of_new_flows_sharing_a_source(server):
    sid = str(uuid.uuid4())

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            fid = str(uuid.uuid4())
            r = s.put(f"{server.url}/flows/{fid}", json=body_for(fid, sid, t, i), timeout=30)
            assert r.status_code == 201, (r.status_code, r.text)

    run_threads(writer)
    assert len(server.get(f"/flows?source_id={sid}&limit=1000").json()) == THREADS * ROUNDS
    sources = server.get("/sources?limit=1000").json()
    assert [s["id"] for s in sources] == [sid]
    validate(sources[0], "source.json")


def test_parallel_property_writes(server):
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert server.put(f"/flows/{fid}", json=body_for(fid, sid, 0, 0)).status_code == 201
    labels = set()
    lock = threading.Lock()

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            r = s.put(f"{server.url}/flows/{fid}/tags/t{t}", json=f"v{i}", timeout=30)
            assert r.status_code == 204, (r.status_code, r.text)
            label = f"label {t}.{i}"
            with lock:
                labels.add(label)
            r = s.put(f"{server.url}/flows/{fid}/label", json=label, timeout=30)
            assert r.status_code == 204, (r.status_code, r.text)
            r = s.put(f"{server.url}/sources/{sid}/tags/t{t}", json=f"v{i}", timeout=30)
            assert r.status_code == 204, (r.status_code, r.text)

    run_threads(writer)
    final = server.get(f"/flows/{fid}").json()
    validate(final, "flow.json")
    # No tag write was lost: each writer's last value is there.
    expected = {"writer": "0", "round": "0"}
    expected.update({f"t{t}": f"v{ROUNDS - 1}" for t in range(THREADS)})
    assert final["tags"] == expected
    assert final["label"] in labels
    assert server.get(f"/flows/{fid}/label").json() == final["label"]
    src = server.get(f"/sources/{sid}").json()
    validate(src, "source.json")
    assert src["tags"] == {f"t{t}": f"v{ROUNDS - 1}" for t in range(THREADS)}


def test_parallel_mixed_put_and_property_writes(server):
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    assert server.put(f"/flows/{fid}", json=body_for(fid, sid, 0, 0)).status_code == 201
    sent = []
    lock = threading.Lock()

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            if t % 2:
                doc = body_for(fid, sid, t, i)
                with lock:
                    sent.append(doc)
                r = s.put(f"{server.url}/flows/{fid}", json=doc, timeout=30)
            else:
                r = s.put(f"{server.url}/flows/{fid}/tags/extra", json=f"{t}.{i}", timeout=30)
            assert r.status_code in (204,), (r.status_code, r.text)
            r = s.get(f"{server.url}/flows/{fid}", timeout=30)
            assert r.status_code == 200, r.text
            validate(r.json(), "flow.json")

    run_threads(writer)
    final = server.get(f"/flows/{fid}").json()
    validate(final, "flow.json")
    client = {k: v for k, v in final.items() if k not in SERVER_MEMBERS}
    extra = client["tags"].pop("extra", None)
    assert client in sent, client
    assert extra is None or extra.count(".") == 1
    assert [s["id"] for s in server.get("/sources?limit=1000").json()] == [sid]


def test_parallel_create_and_delete(server):
    """Flows of one source created and deleted in parallel: the source goes with the last."""
    sid = str(uuid.uuid4())

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            fid = str(uuid.uuid4())
            r = s.put(f"{server.url}/flows/{fid}", json=body_for(fid, sid, t, i), timeout=30)
            assert r.status_code == 201, (r.status_code, r.text)
            r = s.delete(f"{server.url}/flows/{fid}", timeout=30)
            assert r.status_code == 204, (r.status_code, r.text)

    run_threads(writer)
    assert server.get("/flows").json() == []
    assert server.get("/sources").json() == []
    assert server.get(f"/sources/{sid}").status_code == 404


def test_parallel_collection_changes_stay_consistent(server):
    """Collectors rewritten while their members are deleted and re-created: never a 5xx, and
    afterwards every flow_collection item exists and collected_by mirrors the collections."""
    sid, csid = str(uuid.uuid4()), str(uuid.uuid4())
    members = [str(uuid.uuid4()) for _ in range(4)]
    collector = str(uuid.uuid4())
    for m in members:
        assert server.put(f"/flows/{m}", json=body_for(m, sid, 0, 0)).status_code == 201
    multi = {"id": collector, "source_id": csid, "format": "urn:x-nmos:format:multi"}
    assert server.put(f"/flows/{collector}", json=multi).status_code == 201
    allowed = {"PUT": {201, 204, 400, 404}, "DELETE": {204, 404}, "GET": {200}}

    def writer(t):
        s = requests.Session()
        for i in range(ROUNDS):
            m = members[(t + i) % len(members)]
            if t % 4 == 0:
                coll = [{"id": x, "role": "r"} for x in members[:1 + i % len(members)]]
                rs = [s.put(f"{server.url}/flows/{collector}/flow_collection", json=coll)]
            elif t % 4 == 1:
                rs = [s.delete(f"{server.url}/flows/{m}"),
                      s.put(f"{server.url}/flows/{m}", json=body_for(m, sid, t, i))]
            elif t % 4 == 2:
                rs = [s.put(f"{server.url}/flows/{collector}",
                            json=dict(multi, flow_collection=[{"id": m, "role": "q"}]))]
            else:
                rs = [s.get(f"{server.url}/flows?limit=1000"),
                      s.get(f"{server.url}/sources?limit=1000")]
            for r in rs:
                assert r.status_code in allowed[r.request.method], (r.status_code, r.text)

    run_threads(writer)
    flows = {f["id"]: f for f in server.get("/flows?limit=1000").json()}
    for f in flows.values():
        validate(f, "flow.json")
        for item in f.get("flow_collection", []):
            assert item["id"] in flows, "dangling collection member"
            assert f["id"] in flows[item["id"]].get("collected_by", [])
        for c in f.get("collected_by", []):
            assert f["id"] in [i["id"] for i in flows[c].get("flow_collection", [])]
    for s in server.get("/sources?limit=1000").json():
        validate(s, "source.json")
