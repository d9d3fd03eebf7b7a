# SPDX-License-Identifier: Apache-2.0
"""Throwaway PostgreSQL servers of a test's own (initdb, pg_ctl), for the tests that stop, crash
or promote their database: the shared test cluster of scripts/test.sh serves every other test
running at the same time, so it is never stopped. Run by the postgres user when we are root.
Only for the PostgreSQL API run (ON_PG); a fixture skips when the server binaries are missing
(TAMS_TEST_PGBIN, default the newest /usr/lib/postgresql/*/bin)."""
import glob
import os
import pathlib
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest

from conftest import free_port


def pg_bindir():
    """TAMS_TEST_PGBIN, else the newest /usr/lib/postgresql/*/bin; None when it lacks a tool."""
    found = os.environ.get("TAMS_TEST_PGBIN") or max(
        glob.glob("/usr/lib/postgresql/*/bin"), default="",
        key=lambda d: [int(x) for x in re.findall(r"\d+", d)])
    tools = ("initdb", "pg_ctl", "pg_basebackup", "psql")
    if found and all(os.access(os.path.join(found, t), os.X_OK) for t in tools):
        return found
    return None


def require_server():
    """The server binaries' folder, or a skip saying why none can run here."""
    bindir = pg_bindir()
    if not bindir:
        pytest.skip("PostgreSQL server binaries not found (set TAMS_TEST_PGBIN)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL")
    return bindir


class Place:
    """A temp folder the servers live in, and how their tools are run."""

    def __init__(self, bindir, prefix):
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self.nodes = []

    def run(self, tool, *args):
        cmd = [os.path.join(self.bindir, tool), *args]
        if self.as_root:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"{shlex.join(cmd)} failed:\n{out.stdout}{out.stderr}"

    def destroy(self):
        for node in self.nodes:
            try:
                node.pg_ctl("-m", "immediate", "stop")
            except AssertionError:
                pass  # already down, or never started
        shutil.rmtree(self.tmp, ignore_errors=True)


class Node:
    """One PostgreSQL server in place, on a port of its own."""

    def __init__(self, place, name):
        self.place, self.name = place, name
        self.data = place.tmp / name
        self.log = place.tmp / f"{name}.log"
        self.port = free_port()
        place.nodes.append(self)

    def url(self, db="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def init(self, **settings):
        """initdb, then the settings every test server has and these."""
        self.place.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                       "-E", "UTF8", "--locale=C.UTF-8")
        self.configure(listen_addresses="127.0.0.1", port=self.port,
                       unix_socket_directories=str(self.place.tmp), fsync="off", **settings)

    def pg_ctl(self, *args):
        self.place.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", *args)

    def configure(self, **settings):
        with open(self.data / "postgresql.conf", "a") as f:
            f.writelines(f"{k} = '{v}'\n" for k, v in settings.items())

    def start(self):
        self.pg_ctl("-l", str(self.log), "start")

    def stop(self):
        """A clean, fast stop: sessions are ended, as when an operator stops the server."""
        self.pg_ctl("-m", "fast", "stop")

    def crash(self):
        self.pg_ctl("-m", "immediate", "stop")

    def psql(self, sql, db="postgres"):
        out = subprocess.run([os.path.join(self.place.bindir, "psql"), self.url(db),
                              "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"psql on {self.name}: {sql}\n{out.stderr}"
        return out.stdout.strip()

    def log_tail(self):
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def own_pg():
    """A PostgreSQL server of this test's own, running, with an empty database `tams`:
    stop and start it at will."""
    place = Place(require_server(), "tamsd-pgown-")
    try:
        node = Node(place, "pg")
        node.init()
        node.start()
        node.psql("CREATE DATABASE tams")
        yield node
    finally:
        place.destroy()
