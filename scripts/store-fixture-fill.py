#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fill a running tamsd (TAMS 7.0 at its root) with everything its store can hold, then write
manifest.json: the writes made and every document read back, for tests/api/test_store_upgrade.py.

Run by scripts/make-store-fixture.sh (which starts and stops the server); see CONTRIBUTING.md.
usage: store-fixture-fill.py BASE_URL MEDIA_DIR MANIFEST S3_STORAGE_ID. Its last write starts a flow deletion
request that make-store-fixture.sh interrupts by stopping the server at once. Ids are fixed (uuid5
of a name) so the SQLite and PostgreSQL fixtures hold the same items; times differ.
"""
import datetime
import json
import pathlib
import sys
import time
import uuid

import requests

NS = uuid.UUID("6f1a1c57-4a0b-4d1e-9d0e-2b8f4a7c9e10")
VIDEO = "urn:x-nmos:format:video"
AUDIO = "urn:x-nmos:format:audio"
DATA = "urn:x-nmos:format:data"
MULTI = "urn:x-nmos:format:multi"
IMAGE = "urn:x-tam:format:image"


def uid(name):
    return str(uuid.uuid5(NS, name))


class Filler:
    def __init__(self, base, media_dir):
        self.base = base.rstrip("/")
        self.media = pathlib.Path(media_dir)
        self.s = requests.Session()
        self.writes = []

    def call(self, method, path, status, **kw):
        r = self.s.request(method, self.base + path, timeout=30, **kw)
        if r.status_code not in ((status,) if isinstance(status, int) else status):
            sys.exit(f"{method} {path}: {r.status_code} {r.text}")
        body = kw.get("json")
        if isinstance(body, list) and len(body) > 20:
            body = {"items": len(body)}  # the big deletion's segments: their count is enough
        self.writes.append({"method": method, "path": path, "status": r.status_code,
                            "body": body})
        return r

    def flow(self, name, doc):
        fid = uid(name)
        doc = dict(doc, id=fid)
        self.call("PUT", f"/flows/{fid}", 201, json=doc)
        return fid

    def upload(self, fid, files, storage_id=None):
        """Allocate len(files) objects (in the default store, or storage_id's) and PUT each
        file's bytes."""
        body = {"limit": len(files)}
        if storage_id:
            body["storage_id"] = storage_id
        r = self.call("POST", f"/flows/{fid}/storage", 201, json=body)
        ids = []
        for obj, f in zip(r.json()["media_objects"], files):
            put = obj["put_url"]
            u = self.s.put(put["url"], data=(self.media / f).read_bytes(),
                           headers={"Content-Type": put["content-type"]}, timeout=30)
            if u.status_code != 200:
                sys.exit(f"upload {f}: {u.status_code} {u.text}")
            ids.append(obj["object_id"])
        return ids

    def segments(self, fid, segs):
        self.call("POST", f"/flows/{fid}/segments", 201, json=segs)


def tr(a, b):
    return f"[{a}:0_{b}:0)"


def fill(f, s3_id):
    src_video = uid("source-video")
    ext = "http://media.example.com/fixture"
    # Flows of every format, with every property 7.0 lets a client set.
    video = f.flow("video", {
        "source_id": src_video, "format": VIDEO, "codec": "video/h264",
        "container": "video/mp2t", "label": "camera 1", "description": "the main camera",
        "tags": {"genre": "news", "flow_status": "ingesting", "_tams_segmentation_rate": "25"},
        "generation": 2, "max_bit_rate": 5000, "avg_bit_rate": 4000,
        "essence_parameters": {"frame_rate": {"numerator": 25}, "frame_width": 64,
                               "frame_height": 36, "bit_depth": 8,
                               "interlace_mode": "progressive", "colorspace": "BT709",
                               "transfer_characteristic": "SDR",
                               "aspect_ratio": {"numerator": 16, "denominator": 9},
                               "pixel_aspect_ratio": {"numerator": 1, "denominator": 1},
                               "component_type": "YCbCr", "vert_chroma_subs": 2,
                               "horiz_chroma_subs": 2, "avc_parameters":
                               {"profile": 66, "level": 12, "flags": 0}}})
    video_vfr = f.flow("video-no-rate", {
        "source_id": src_video, "format": VIDEO, "codec": "video/h264",
        "container": "video/mp2t", "label": "camera 1 proxy",
        "essence_parameters": {"frame_width": 64, "frame_height": 36}})
    audio = f.flow("audio", {
        "source_id": uid("source-audio"), "format": AUDIO, "codec": "audio/aac",
        "container": "video/mp2t", "label": "mic 1", "avg_bit_rate": 128,
        "tags": {"language": "en"},
        "essence_parameters": {"sample_rate": 48000, "channels": 2, "bit_depth": 24,
                               "codec_parameters": {"coded_frame_size": 1024, "mp4_oti": 2}}})
    data = f.flow("data", {
        "source_id": uid("source-data"), "format": DATA, "codec": "application/ttml+xml",
        "container": "application/ttml+xml", "label": "subtitles",
        "essence_parameters": {"data_type": "urn:x-tams:data:subtitle"}})
    image = f.flow("image", {
        "source_id": uid("source-image"), "format": IMAGE, "codec": "image/jpeg",
        "container": "image/jpeg", "label": "thumbnails",
        "essence_parameters": {"frame_width": 64, "frame_height": 36,
                               "aspect_ratio": {"numerator": 16, "denominator": 9}}})
    multi = f.flow("multi", {
        "source_id": uid("source-multi"), "format": MULTI, "container": "video/mp2t",
        "label": "programme", "tags": {"ingested_by": "store-fixture"},
        "flow_collection": [{"id": video, "role": "video"}, {"id": audio, "role": "audio"},
                            {"id": data, "role": "subtitles"},
                            {"id": image, "role": "thumbnails"}]})
    # Properties through their own routes, on flows and sources.
    f.call("PUT", f"/flows/{audio}/tags/channel_layout", 204, json="stereo")
    f.call("PUT", f"/flows/{data}/description", 204, json="English subtitles")
    f.call("PUT", f"/flows/{data}/max_bit_rate", 204, json=10)
    f.call("PUT", f"/sources/{src_video}/label", 204, json="Studio A camera 1")
    f.call("PUT", f"/sources/{src_video}/description", 204, json="the studio's first camera")
    f.call("PUT", f"/sources/{src_video}/tags/location", 204, json="studio-a")
    f.call("PUT", f"/sources/{uid('source-multi')}/tags/programme", 204, json="evening news")

    # Segments: uploaded objects (real media made by ffmpeg), one object used by two flows,
    # external objects with several get_urls (one labelled, one not), ts_offset,
    # sample_offset / sample_count, key_frame_count.
    v = f.upload(video, ["v0.ts", "v1.ts", "v2.ts"])
    f.segments(video, [{"object_id": v[0], "timerange": tr(0, 1), "key_frame_count": 1},
                       {"object_id": v[1], "timerange": tr(1, 2), "ts_offset": "1:0"},
                       {"object_id": v[2], "timerange": tr(3, 4)}])
    f.segments(video_vfr, [{"object_id": v[0], "timerange": tr(10, 11)}])
    a = f.upload(audio, ["a0.ts"])
    f.segments(audio, [{"object_id": a[0], "timerange": tr(0, 1), "sample_offset": 0,
                        "sample_count": 48000},
                       {"object_id": a[0], "timerange": tr(1, 2), "sample_offset": 0,
                        "sample_count": 48000, "ts_offset": "-1:0"}])
    # An object in the second backend (S3).
    s3 = f.upload(audio, ["a0.ts"], storage_id=s3_id)
    f.segments(audio, [{"object_id": s3[0], "timerange": tr(2, 3)}])
    f.segments(data, [{"object_id": "fixture/ttml-0", "timerange": tr(0, 5),
                       "get_urls": [{"url": ext + "/ttml-0.xml"},
                                    {"url": ext + "/mirror/ttml-0.xml",
                                     "label": "mirror"}]},
                      {"object_id": "fixture/ttml-1", "timerange": tr(5, 10),
                       "get_urls": [{"url": ext + "/ttml-1.xml", "label": "origin"}]}])
    f.segments(image, [{"object_id": "fixture/thumb-0", "timerange": tr(0, 1),
                        "get_urls": [{"url": ext + "/thumb-0.jpg", "label": "origin"}]}])
    f.segments(multi, [{"object_id": "fixture/multi-0", "timerange": tr(0, 2),
                        "get_urls": [{"url": ext + "/multi-0.ts"}]}])

    # Webhooks, one with an API key (sealed in the store).
    f.call("POST", "/service/webhooks", (201, 204), json={
        "url": "http://127.0.0.1:9/hook-keyed", "api_key_name": "X-Api-Key",
        "api_key_value": "fixture-secret", "events": ["flows/created", "flows/segments_added"]})
    f.call("POST", "/service/webhooks", (201, 204), json={
        "url": "http://127.0.0.1:9/hook-plain", "events": ["sources/created",
                                                           "flows/deleted"]})
    f.call("POST", "/service", (200, 201, 204), json={"name": "fixture store",
                                                      "description": "made by make-store-fixture.sh"})

    # A flow that is read-only from now on.
    f.call("PUT", f"/flows/{video_vfr}/read_only", 204, json=True)

    # The trash (soft_delete_retention): a whole flow (its source goes with it), and a
    # segment range of a live flow.
    gone = f.flow("trashed", {
        "source_id": uid("source-trashed"), "format": DATA, "codec": "text/plain",
        "container": "text/plain", "label": "to the bin", "tags": {"keep": "no"},
        "essence_parameters": {"data_type": "urn:x-tams:data:subtitle"}})
    f.call("PUT", f"/sources/{uid('source-trashed')}/tags/bin", 204, json="yes")
    f.segments(gone, [{"object_id": "fixture/trashed-0", "timerange": tr(0, 1),
                       "get_urls": [{"url": ext + "/trashed-0.txt"}]}])
    f.call("DELETE", f"/flows/{gone}", 204)
    f.segments(data, [{"object_id": "fixture/ttml-2", "timerange": tr(20, 21),
                       "get_urls": [{"url": ext + "/ttml-2.xml"}]}])
    f.call("DELETE", f"/flows/{data}/segments?timerange={tr(20, 21)}", 204)

    # A finished flow deletion request (more segments than delete_sync_limit).
    done = f.flow("deleted", {
        "source_id": uid("source-deleted"), "format": DATA, "codec": "text/plain",
        "container": "text/plain",
        "essence_parameters": {"data_type": "urn:x-tams:data:subtitle"}})
    f.segments(done, [{"object_id": f"fixture/del-{i}", "timerange": tr(i, i + 1),
                       "get_urls": [{"url": f"{ext}/del-{i}.txt"}]} for i in range(8)])
    r = f.call("DELETE", f"/flows/{done}", 202)
    done_req = r.json()["id"]
    deadline = time.time() + 60
    while f.s.get(f"{f.base}/flow-delete-requests/{done_req}").json()["status"] != "done":
        if time.time() > deadline:
            sys.exit("the deletion request did not finish")
        time.sleep(0.1)
    return {"flows": {"video": video, "video_no_rate": video_vfr, "audio": audio,
                      "data": data, "image": image, "multi": multi, "trashed": gone, "deleted": done},
            "sources": {"video": src_video, "audio": uid("source-audio"),
                        "data": uid("source-data"), "image": uid("source-image"),
                        "multi": uid("source-multi"),
                        "trashed": uid("source-trashed"), "deleted": uid("source-deleted")},
            "objects": {"video": v, "audio": a, "s3": s3},
            "deletion_done": done_req}


def pending_request(f, ids):
    """Last: a flow deletion request the server is stopped in the middle of (delete_batch 1)."""
    fid = f.flow("pending", {
        "source_id": uid("source-pending"), "format": DATA, "codec": "text/plain",
        "container": "text/plain",
        "essence_parameters": {"data_type": "urn:x-tams:data:subtitle"}})
    f.segments(fid, [{"object_id": f"fixture/pend-{i}", "timerange": tr(i, i + 1),
                      "get_urls": [{"url": f"http://media.example.com/fixture/p-{i}.txt"}]}
                     for i in range(200)])
    r = f.call("DELETE", f"/flows/{fid}", 202)
    ids["flows"]["pending"] = fid
    ids["sources"]["pending"] = uid("source-pending")
    ids["deletion_pending"] = r.json()["id"]


def read_back(f, ids):
    """Every document the 7.0 API shows of the store, by path."""
    reads = {}
    paths = ["/service", "/service/storage-backends", "/service/webhooks",
             "/sources?limit=1000", "/flows?limit=1000", "/flow-delete-requests",
             "/trash", "/analytics/storage"]
    for fid in ids["flows"].values():
        paths += [f"/flows/{fid}", f"/flows/{fid}/segments?limit=1000",
                  f"/flows/{fid}/tags", f"/analytics/flows/{fid}",
                  f"/analytics/flows/{fid}/gaps"]
    for sid in ids["sources"].values():
        paths += [f"/sources/{sid}", f"/sources/{sid}/tags", f"/analytics/sources/{sid}"]
    for oid in ids["objects"]["video"] + ids["objects"]["audio"] + ids["objects"]["s3"] + \
            ["fixture/ttml-0"]:
        paths.append(f"/objects/{oid}")
    for rid in (ids["deletion_done"],):
        paths.append(f"/flow-delete-requests/{rid}")
    for p in paths:
        r = f.s.get(f.base + p, timeout=30)
        reads[p] = {"status": r.status_code,
                    "body": r.json() if r.content and r.headers.get(
                        "Content-Type", "").startswith("application/json") else None}
    return reads


def main():
    base, media, manifest, s3_id = sys.argv[1:5]
    f = Filler(base, media)
    ids = fill(f, s3_id)
    reads = read_back(f, ids)
    pending_request(f, ids)
    state = f.s.get(f"{f.base}/flow-delete-requests/{ids['deletion_pending']}").json()
    pathlib.Path(manifest).write_text(json.dumps({
        "made": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ids": ids, "writes": f.writes, "reads": reads,
        "pending_state_at_fill": state}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
