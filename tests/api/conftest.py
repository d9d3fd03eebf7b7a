# SPDX-License-Identifier: Apache-2.0
"""API test harness: starts the real tamsd binary on 127.0.0.1 and speaks HTTP to it.

Every server started here is stopped with SIGTERM at the end; the test fails if it does not
exit 0 or if its stderr holds a sanitizer report. Response bodies are validated against the
spec's JSON schemas with `validate(body, "flow.json")`.
"""
import datetime
import hashlib
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import jsonschema
import pytest
import requests

from spec_responses import SpecResponses

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("TAMSD_BIN", str(ROOT / "build" / "tamsd"))


def find_spec(version="7.0"):
    """The TAMS spec folder of version (TimeAddressableMediaStore.yaml, schemas/, examples/): its
    variable (TAMS_SPEC_DIR for 7.0, TAMS_SPEC82_DIR for 8.2), else the folder CMake chose for the
    build that made BIN (cmake/TamsSpec.cmake writes it to tams-spec-dir, tams-spec82-dir there),
    else the populated submodule."""
    var, chosen_file, sub = {
        "7.0": ("TAMS_SPEC_DIR", "tams-spec-dir", "tams"),
        "8.2": ("TAMS_SPEC82_DIR", "tams-spec82-dir", "tams-8.2"),
    }[version]
    named = os.environ.get(var, "")
    if named:
        candidates = [pathlib.Path(named)]
    else:
        candidates = []
        chosen = pathlib.Path(BIN).resolve().parent / chosen_file
        if chosen.is_file():
            candidates.append(pathlib.Path(chosen.read_text().strip()))
        candidates.append(ROOT / "spec" / sub / "api")
    for d in candidates:
        if (d / "TimeAddressableMediaStore.yaml").is_file() and (d / "schemas").is_dir():
            return d
    pytest.exit(f"tests/api need the TAMS {version} spec: run 'git submodule update --init "
                f"spec/{sub}', configure a build (cmake finds it), or set {var}=/path/to/tams/api",
                returncode=4)


SPEC = find_spec()
SCHEMAS = SPEC / "schemas"
SPEC82 = find_spec("8.2")
SCHEMA_DIRS = {"7.0": SCHEMAS, "8.2": SPEC82 / "schemas"}
EXAMPLES = SPEC / "examples"
# With TAMS_TEST_DATABASE=postgresql://... every Server runs on that PostgreSQL database instead of
# SQLite, in a schema of its own named after its data directory (so a restart on the same data
# directory finds its data, and servers never see each other's). SQLite stays the default.
TEST_DATABASE = os.environ.get("TAMS_TEST_DATABASE", "")
ON_PG = TEST_DATABASE.startswith(("postgresql://", "postgres://"))
# Tests about the SQLite file itself (tams.db): @sqlite_only skips them on PostgreSQL.
sqlite_only = pytest.mark.skipif(ON_PG, reason="about the SQLite store file; the run uses PostgreSQL")
# TAMS_TEST_BASE_PATH=/tams/v7.0 runs every test under that version prefix: the Server's
# request helpers (get, put, ...) put it before every TAMS path, not before the extensions, which
# tamsd serves at the root only. srv.api is the base URL the tests compare links with.
BASE_PATH = os.environ.get("TAMS_TEST_BASE_PATH", "").rstrip("/")
# The version the helpers speak: 8.2 under /tams/v8.2, else 7.0 (the root serves 7.0 in tests).
API_VERSION = "8.2" if BASE_PATH == "/tams/v8.2" else "7.0"


# Added to the essence_parameters of the tests' video flows: 8.2 requires a frame_rate unless
# vfr is true (change 14); the 7.0 suite keeps its bodies unchanged.
VIDEO_RATE = {"frame_rate": {"numerator": 25, "denominator": 1}} if API_VERSION == "8.2" else {}


# Tests of 7.0 behaviour that 8.2 changed on purpose (docs/tams-8.2-changes.md) skip under 8.2;
# each says which change. The 8.2 behaviour has its own tests in test_v82_*.py.
def only_70(change):
    return pytest.mark.skipif(API_VERSION != "7.0", reason=f"7.0 behaviour; 8.2: {change}")


ROOT_ONLY_PATHS = ("/health", "/ready", "/metrics", "/analytics", "/hls/", "/ui", "/trash")
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:", '"level":"bug"')


def tamsd_env():
    """The environment a tamsd of the tests starts with: the harness's, without TAMS_ settings
    (a test gives its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}


class PortTaken(Exception):
    """tamsd could not listen on the port it was given: somebody took it meanwhile."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_schema(name, version="7.0"):
    return json.loads((SCHEMA_DIRS[version] / name).read_text())


# The schema file that holds a 7.0 file's answer in 8.2, where the two differ; None: the 8.2
# YAML defines the list inline, as an array of the item schema named beside it.
SCHEMA_NAMES_82 = {"flow.json": "flow-get.json", "flow-core.json": "flow-common.json",
                   "webhook.json": "webhook-get.json",
                   "deletion-requests-list.json": (None, "deletion-request.json")}


def validate(instance, schema_name, version=None):
    """Validate instance against a schema file of the spec of version ("7.0" or "8.2"; by
    default the version of TAMS_TEST_BASE_PATH), resolving its relative $refs. A 7.0 schema
    name stands for the 8.2 file that holds the same answer (SCHEMA_NAMES_82)."""
    version = version or API_VERSION
    if version == "8.2":
        schema_name = SCHEMA_NAMES_82.get(schema_name, schema_name)
        if isinstance(schema_name, tuple):
            assert isinstance(instance, list), instance
            for item in instance:
                validate(item, schema_name[1], version)
            return
    schema = load_schema(schema_name, version)
    resolver = jsonschema.RefResolver(base_uri=SCHEMA_DIRS[version].as_uri() + "/",
                                      referrer=schema)
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, resolver=resolver, format_checker=jsonschema.FormatChecker()).validate(instance)


_SPEC_RESPONSES = {}


def check_response(method, full_path, resp, root_version="7.0"):
    """resp against the spec of the version that answered full_path (a prefix's, else the
    root's), by spec_responses.py; extensions (ROOT_ONLY_PATHS) are not the spec's."""
    path = full_path.split("?", 1)[0]
    m = re.match(r"/tams/v(7\.0|8\.2)(/.*)?\Z", path)
    if m:
        version, path = m.group(1), m.group(2) or "/"
    elif path.startswith(ROOT_ONLY_PATHS) or path.startswith("/_objects/"):
        return
    else:
        version = root_version
    if version not in _SPEC_RESPONSES:
        _SPEC_RESPONSES[version] = SpecResponses(SCHEMA_DIRS[version].parent)
    _SPEC_RESPONSES[version].check(method.upper(), path, resp)


def psql(sql, url=None):
    """Run SQL on the test PostgreSQL (TAMS_TEST_DATABASE) with psql; returns its output."""
    out = subprocess.run(["psql", url or TEST_DATABASE, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=60)
    return out.stdout


def worker_database(url):
    """The database this pytest-xdist worker runs its servers in: TAMS_TEST_DATABASE's, with
    the worker's name after it, created when new (without xdist, TAMS_TEST_DATABASE itself).
    Schemas keep servers' data apart, but PostgreSQL's notifications, by which instances keep
    their caches coherent, reach every session of a database: another worker's writes would
    evict this worker's caches while its tests count cache hits."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not re.fullmatch(r"gw\d+", worker):
        return url
    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_{worker}"
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", url).strip():
        psql(f'CREATE DATABASE "{name}"', url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


if ON_PG:
    TEST_DATABASE = worker_database(TEST_DATABASE)


def pg_schema_url(data_dir):
    """The database URL of a server on data_dir: a schema of its own, created when new."""
    schema = "t_" + hashlib.sha1(str(pathlib.Path(data_dir).resolve()).encode()).hexdigest()[:20]
    psql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    sep = "&" if "?" in TEST_DATABASE else "?"
    return f"{TEST_DATABASE}{sep}options=-csearch_path%3D{schema}"


def db_scalar(data_dir, sql, *params):
    """First column of the first row of sql (with ? placeholders) on the metadata store of the
    server on data_dir, whichever store the run uses: for tests that look under the API."""
    if not ON_PG:
        import sqlite3
        with sqlite3.connect(pathlib.Path(data_dir) / "tams.db") as db:
            return db.execute(sql, params).fetchone()[0]
    for p in params:
        sql = sql.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
    out = psql(sql, pg_schema_url(data_dir)).strip()
    return int(out) if out.lstrip("-").isdigit() else out


def check_error(resp, status):
    """The response is `status` with the spec's error body; returns the body."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    body = resp.json()
    validate(body, "error.json")
    assert body["summary"].strip(), body
    datetime.datetime.fromisoformat(body["time"].replace("Z", "+00:00"))
    return body


class Requests:
    """get, head, put, post, delete: request(method, path, **kw) of the class that has them."""

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Server(Requests):
    """One tamsd process with its own data directory."""

    def __init__(self, tmp, args=(), env=None, data_dir=None):
        self.tmp = pathlib.Path(tmp)
        self.data_dir = pathlib.Path(data_dir) if data_dir else self.tmp / "data"
        self.args = list(args)
        self.env = env or {}
        self.proc = None
        self.port = None
        self.stderr_path = None
        self.session = requests.Session()
        self.base_path = BASE_PATH

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self):
        """The base URL of the TAMS API the helpers talk to: url plus base_path."""
        return self.url + self.base_path

    def path_of(self, path):
        """path as the helpers send it: under base_path unless it is an extension's."""
        if not self.base_path or not path.startswith("/") or path.startswith(ROOT_ONLY_PATHS):
            return path
        return self.base_path + path

    def start(self):
        # The port free_port found may be taken before tamsd binds it (tests run in parallel,
        # and clients' connections take ports too): then try another.
        for _ in range(5):
            try:
                return self._start_once()
            except PortTaken:
                continue
        raise AssertionError("tamsd found no free port in 5 tries:\n" + self.stderr())

    def _start_once(self):
        self.port = free_port()
        self.stderr_path = self.tmp / f"tamsd-{self.port}.log"
        env = tamsd_env()
        env.update(self.env)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        cmd = [BIN, "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)]
        if ON_PG and not any(str(a).startswith("--database") for a in self.args):
            cmd += ["--database", pg_schema_url(self.data_dir)]
        cmd += self.args
        self.errfile = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.errfile, env=env)
        # Whoever answers /health must be this tamsd: it has said that it listens (unless the
        # test quietened its log) and is still running.
        listening = f"listening on http://127.0.0.1:{self.port} ".encode()
        quiet = "--log-level" in [str(a) for a in self.args]
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                self.errfile.close()
                text = self.stderr()
                if "cannot listen on" in text and "Address already in use" in text:
                    raise PortTaken()
                raise AssertionError(f"tamsd exited at start ({rc}):\n" + text)
            if quiet or listening in self.stderr_path.read_bytes():
                try:
                    if requests.get(self.url + "/health", timeout=1).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise AssertionError("tamsd did not become healthy:\n" + self.stderr())

    def stderr(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""

    def stop(self, sig=signal.SIGTERM, check=True):
        if not self.proc:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("tamsd did not stop within 60 s after " + str(sig))
        finally:
            self.errfile.close()
            self.proc = None
        if check:
            self.check_clean()
            if sig in (signal.SIGTERM, signal.SIGINT):
                assert rc == 0, f"tamsd exited {rc}:\n{self.stderr()}"
        return rc

    def check_clean(self):
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            assert marker not in text, f"sanitizer/bug report in tamsd stderr:\n{text}"

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        full = self.path_of(path)
        resp = self.session.request(method, self.url + full, **kw)
        check_response(method, full, resp, self.root_version)
        return resp

    @property
    def root_version(self):
        """The version the root paths serve: --root-api-version's, else 7.0."""
        args = [str(a) for a in self.args]
        if "--root-api-version" in args[:-1]:
            return args[args.index("--root-api-version") + 1]
        return "7.0"

    def at(self, version):
        """This server's API as version ("7.0" or "8.2") serves it, under /tams/v<version>
        whatever TAMS_TEST_BASE_PATH says: the same helpers (get, put, ...) and validate() of
        that version's schemas. Tests of how the two versions see one store use a view each."""
        return VersionView(self, version)

    def log_lines(self):
        out = []
        for line in self.stderr().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


@pytest.fixture
def tmpdir_path():
    with tempfile.TemporaryDirectory(prefix="tamsd-test-") as d:
        yield pathlib.Path(d)


@pytest.fixture
def make_server(tmpdir_path):
    """Factory: make_server(args=[...], env={...}) -> started Server; all stopped at the end."""
    servers = []

    def make(args=(), env=None, data_dir=None, start=True):
        srv = Server(tmpdir_path / f"s{len(servers)}", args=args, env=env, data_dir=data_dir)
        srv.tmp.mkdir(parents=True, exist_ok=True)
        servers.append(srv)
        return srv.start() if start else srv

    yield make
    for srv in servers:
        srv.stop()


class VersionView(Requests):
    """A Server seen under one version prefix (Server.at)."""

    def __init__(self, srv, version):
        self.srv = srv
        self.version = version
        self.base_path = f"/tams/v{version}"

    @property
    def url(self):
        return self.srv.url

    @property
    def api(self):
        return self.srv.url + self.base_path

    @property
    def session(self):
        return self.srv.session

    def path_of(self, path):
        if not path.startswith("/") or path.startswith(ROOT_ONLY_PATHS):
            return path
        return self.base_path + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        full = self.path_of(path)
        resp = self.srv.session.request(method, self.srv.url + full, **kw)
        check_response(method, full, resp)
        return resp

    def validate(self, instance, schema_name):
        validate(instance, schema_name, version=self.version)


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def v82(server):
    """The default server's API under /tams/v8.2."""
    return server.at("8.2")


@pytest.fixture
def v70(server):
    """The default server's API under /tams/v7.0."""
    return server.at("7.0")


# --- the S3 test server (tests/s3/s3server.py, signatures checked with botocore) --------------

S3SERVER = ROOT / "tests" / "s3" / "s3server.py"


class S3TestServer:
    """One tests/s3/s3server.py process on 127.0.0.1; run with Debian's /usr/bin/python3."""

    def __init__(self, tmp, access_key, secret_key, region, args=()):
        self.tmp = pathlib.Path(tmp)
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.args = list(args)
        self.proc = None
        self.port = None
        self.log_path = self.tmp / "s3server.log"

    def start(self):
        ready = self.tmp / "ready"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(S3SERVER), "--port", "0", "--dir", str(self.tmp / "data"),
             "--access-key", self.access_key, "--secret-key", self.secret_key,
             "--region", self.region, "--ready-file", str(ready)] + self.args,
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        while not ready.exists():
            assert self.proc.poll() is None, self.log_text()
            assert time.time() < deadline, "s3server did not start"
            time.sleep(0.05)
        self.port = int(ready.read_text())
        return self

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def create_bucket(self, bucket):
        """Header-signed bucket PUT through botocore (path-style)."""
        import botocore.session
        from botocore.config import Config
        client = botocore.session.get_session().create_client(
            "s3", region_name=self.region, endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        client.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": self.region})

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
            self.log.close()


@pytest.fixture(scope="module")
def s3_test_server(tmp_path_factory):
    """A started S3TestServer with bucket "tams-media" (access key, secret and region below)."""
    srv = S3TestServer(tmp_path_factory.mktemp("s3"), "AKIAIOSFODNN7EXAMPLE",
                       "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-2")
    srv.start()
    srv.create_bucket("tams-media")
    yield srv
    srv.stop()
