# SPDX-License-Identifier: Apache-2.0
"""The container image (deploy/container/Containerfile), built by scripts/image.sh with the real
podman and run: it serves the API from inside (a flow, storage allocated, an object PUT to the
built-in store, a segment registered, read back and its bytes fetched), runs as a non-root user
on a read-only root with the data on a volume that outlives the container, answers its
HEALTHCHECK, holds every program `cmake --install` installs, and stops with status 0 on SIGTERM.

The network is the host's (--network host, TAMS_LISTEN on a free 127.0.0.1 port), so nothing
depends on container networking. Building takes minutes the first time (the base is made with
debootstrap when no registry answers, then cached); TAMS_IMAGE_TAG names an image already built
to skip that."""
import hashlib
import os
import pathlib
import re
import socket
import subprocess
import time
import uuid

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "container" / "containers.conf"
ENV = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF", str(CONF)))
VIDEO = "urn:x-nmos:format:video"


def podman(*args, check=True, timeout=120):
    r = subprocess.run(["podman", *args], capture_output=True, text=True, env=ENV,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def image():
    tag = os.environ.get("TAMS_IMAGE_TAG")
    if tag:
        yield tag
        return
    tag = f"localhost/tamsd:test-{uuid.uuid4().hex[:8]}"
    t0 = time.time()
    r = subprocess.run([str(ROOT / "scripts" / "image.sh"), tag], capture_output=True,
                       text=True, env=ENV, timeout=1800)
    assert r.returncode == 0, r.stderr[-4000:]
    print(f"image built in {time.time() - t0:.0f} s")
    yield tag
    podman("rmi", "-f", tag, check=False)


@pytest.fixture
def volume():
    name = f"tamsd-test-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", name)
    yield name
    podman("volume", "rm", "-f", name, check=False)


class Container:
    def __init__(self, image, volume):
        self.name = f"tamsd-test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        podman("run", "-d", "--name", self.name, "--read-only", "--network", "host",
               "-e", f"TAMS_LISTEN=127.0.0.1:{self.port}", "-v", f"{volume}:/var/lib/tamsd",
               image)
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            state = podman("inspect", "-f", "{{.State.Status}}", self.name).stdout.strip()
            assert state == "running" and time.time() < deadline, self.logs()
            time.sleep(0.2)

    def logs(self):
        r = podman("logs", self.name, check=False)
        return r.stdout + r.stderr

    def inspect(self, fmt):
        return podman("inspect", "-f", fmt, self.name).stdout.strip()

    def stop(self):
        podman("stop", "-t", "20", self.name)
        return int(self.inspect("{{.State.ExitCode}}"))

    def remove(self):
        podman("rm", "-f", self.name, check=False)


@pytest.fixture
def container(image, volume):
    made = []

    def make():
        c = Container(image, volume)
        made.append(c)
        return c

    yield make
    for c in made:
        c.remove()


def test_image_serves_the_api_as_non_root_on_a_read_only_root(container):
    c = container()
    try:
        # Who and where: the process's real uid on the host, the root's mount flags.
        pid = c.inspect("{{.State.Pid}}")
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", pathlib.Path(f"/proc/{pid}/status")
                         .read_text(), re.M)
        assert uids and uids.group(1) != "0" and uids.group(2) != "0", uids
        assert c.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true"
        r = podman("exec", c.name, "touch", "/usr/local/bin/x", check=False)
        assert r.returncode != 0 and "Read-only file system" in r.stderr, r.stderr
        assert podman("exec", c.name, "id", "-u").stdout.strip() == uids.group(1)
        assert podman("healthcheck", "run", c.name).returncode == 0

        s = requests.Session()
        fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        doc = {"id": fid, "source_id": sid, "format": VIDEO, "codec": "video/h264",
               "container": "video/mp2t",
               "essence_parameters": {"frame_width": 1920, "frame_height": 1080}}
        assert s.put(f"{c.url}/flows/{fid}", json=doc).status_code == 201
        r = s.post(f"{c.url}/flows/{fid}/storage", json={"limit": 1})
        assert r.status_code == 201, r.text
        obj = r.json()["media_objects"][0]
        data = os.urandom(50000)
        r = s.put(obj["put_url"]["url"], data=data,
                  headers={"Content-Type": obj["put_url"]["content-type"]})
        assert r.status_code == 200, r.text
        r = s.post(f"{c.url}/flows/{fid}/segments",
                   json={"object_id": obj["object_id"], "timerange": "[0:0_1:0)"})
        assert r.status_code == 201, r.text
        segs = s.get(f"{c.url}/flows/{fid}/segments").json()
        assert [x["object_id"] for x in segs] == [obj["object_id"]]
        got = s.get(segs[0]["get_urls"][0]["url"])
        assert got.status_code == 200 and hashlib.sha256(got.content).digest() == \
            hashlib.sha256(data).digest()
        assert s.get(f"{c.url}/ready").status_code == 200
        # The web interface, with the player it needs (hls.js, fetched by deps.sh --ui).
        assert s.get(f"{c.url}/ui/").status_code == 200
        assert s.get(f"{c.url}/ui/vendor/hls.min.js").status_code == 200
    finally:
        status = c.stop()
    assert status == 0, c.logs()
    assert "received SIGTERM" in c.logs()

    # The data lives on the volume: a new container finds the flow and its object.
    c2 = container()
    try:
        segs = requests.get(f"{c2.url}/flows/{fid}/segments").json()
        assert [x["object_id"] for x in segs] == [obj["object_id"]]
        assert requests.get(segs[0]["get_urls"][0]["url"]).content == data
    finally:
        assert c2.stop() == 0


def test_image_holds_what_cmake_installs(image):
    """Every program an install() rule names is in the image's /usr/local/bin and runs there
    (its shared libraries are all present); no compiler came along."""
    targets = set()
    for m in re.finditer(r"install\(TARGETS ([^)]*?)(?:RUNTIME|DESTINATION|\))",
                         (ROOT / "CMakeLists.txt").read_text()):
        targets.update(m.group(1).split())
    assert "tamsd" in targets
    listed = podman("run", "--rm", "--read-only", "--entrypoint", "/bin/ls", image,
                    "/usr/local/bin").stdout.split()
    assert targets <= set(listed), (targets, listed)
    for prog in sorted(targets):  # every shared library each program needs is there
        r = podman("run", "--rm", "--read-only", "--entrypoint", "/usr/bin/ldd", image,
                   f"/usr/local/bin/{prog}")
        assert "not found" not in r.stdout, (prog, r.stdout)
    r = podman("run", "--rm", "--read-only", image, "--version")
    assert r.stdout.startswith("tamsd "), r.stdout + r.stderr
    r = podman("run", "--rm", "--read-only", "--entrypoint", "/bin/sh", image, "-c",
               "command -v cc gcc cmake || true")
    assert r.stdout.strip() == "", r.stdout
