# SPDX-License-Identifier: Apache-2.0
"""The tamsd command line: --help, --version, settings sources, errors, shutdown."""
import json
import os
import signal
import subprocess
import threading
import time

import requests

from conftest import BIN, Server, free_port


def run(args, env=None, timeout=30):
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    e.update(env or {})
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=timeout)


def test_help_lists_every_setting():
    r = run(["--help"])
    assert r.returncode == 0
    for flag in ("--listen", "--data-dir", "--config", "--database", "--public-url",
                 "--max-body-bytes", "--cors-origins", "--page-limit-max"):
        assert flag in r.stdout, flag
    for env in ("TAMS_LISTEN", "TAMS_DATA_DIR"):
        assert env in r.stdout


def test_help_lists_the_commands(tmpdir_path):
    """--help names the user and token commands, and each one it names exists."""
    r = run(["--help"])
    assert r.returncode == 0
    commands = [line.split()[:3] for line in r.stdout.splitlines()
                if line.strip().startswith(("tamsd user ", "tamsd token "))
                and "|" not in line]
    assert sorted(" ".join(c[1:]) for c in commands) == [
        "token create", "token list", "token revoke", "user add", "user delete", "user list"]
    for _, group, action in commands:
        h = run([group, action, "--help"])
        assert h.returncode == 0, (group, action, h.stderr)
        assert f"tamsd {group} {action}" in h.stdout
    # And they work as listed: a token made by "token create" is listed by "token list".
    d = ["--data-dir", str(tmpdir_path / "d")]
    assert run(["token", "create", "--name", "t1", "--scopes", "read"] + d).returncode == 0
    assert "t1\t" in run(["token", "list"] + d).stdout


def test_version():
    r = run(["--version"])
    assert r.returncode == 0
    assert r.stdout.startswith("tamsd ")
    assert "7.0" in r.stdout


def test_unknown_flag_is_an_error():
    r = run(["--no-such-flag"])
    assert r.returncode == 2
    assert "no-such-flag" in r.stderr


def test_unknown_env_setting_is_an_error(tmpdir_path):
    r = run(["--listen", "127.0.0.1:0", "--data-dir", str(tmpdir_path)],
            env={"TAMS_NO_SUCH_SETTING": "1"})
    assert r.returncode == 2
    assert "TAMS_NO_SUCH_SETTING" in r.stderr


def test_bad_values_are_errors(tmpdir_path):
    for args in (["--listen", "127.0.0.1:99999"], ["--threads", "-1"],
                 ["--max-body-bytes", "lots"], ["--log-level", "loud"],
                 ["--local-store-id", "NOT-A-UUID"]):
        r = run(args + ["--data-dir", str(tmpdir_path / "d")])
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip()


def test_unknown_key_in_config_file(tmpdir_path):
    cfg = tmpdir_path / "tamsd.conf"
    cfg.write_text("# comment\nlisten = 127.0.0.1:0\nbogus_key = 1\n")
    r = run(["--config", str(cfg)])
    assert r.returncode == 2
    assert "bogus_key" in r.stderr and ":3" in r.stderr


def test_config_file_env_and_flag_precedence(tmpdir_path):
    port = free_port()
    cfg = tmpdir_path / "tamsd.conf"
    cfg.write_text(f'service_name = "from file"\nservice_description = "file desc"\n'
                   f"listen = 127.0.0.1:{port}\n")
    srv = Server(tmpdir_path / "p", args=["--config", str(cfg)],
                 env={"TAMS_SERVICE_DESCRIPTION": "from env"})
    srv.tmp.mkdir()
    # The harness passes --listen on the command line, which wins over the file.
    srv.start()
    try:
        body = srv.get("/service").json()
        assert body["name"] == "from file"
        assert body["description"] == "from env"
    finally:
        srv.stop()


def test_data_dir_created(tmpdir_path):
    srv = Server(tmpdir_path / "x", data_dir=tmpdir_path / "a" / "b" / "c")
    srv.tmp.mkdir()
    srv.start()
    try:
        assert (tmpdir_path / "a" / "b" / "c").is_dir()
        assert any((tmpdir_path / "a" / "b" / "c").iterdir())
    finally:
        srv.stop()


def test_listen_port_in_use(make_server, tmpdir_path):
    srv = make_server()
    r = run(["--listen", f"127.0.0.1:{srv.port}", "--data-dir", str(tmpdir_path / "other")])
    assert r.returncode != 0
    assert "cannot" in r.stderr


def test_sigterm_finishes_in_flight_requests(make_server):
    """Requests running when SIGTERM arrives still get their answer; the exit code is 0."""
    srv = make_server(args=["--max-body-bytes", "64M"])
    results = []

    def slow_upload():
        # A body that takes a while to arrive keeps a request in flight across the signal.
        def gen():
            yield b'{"name": "'
            for _ in range(20):
                time.sleep(0.05)
                yield b"z" * 1000
            yield b'"}'
        try:
            r = requests.post(srv.url + "/service", data=gen(),
                              headers={"Content-Type": "application/json"}, timeout=30)
            results.append(r.status_code)
        except requests.RequestException as e:
            results.append(repr(e))

    t = threading.Thread(target=slow_upload)
    t.start()
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    t.join(30)
    rc = srv.stop(sig=signal.SIGTERM)
    assert results == [200], results
    assert rc == 0
    msgs = [l.get("msg", "") for l in srv.log_lines()]
    assert any("SIGTERM" in m for m in msgs)
    assert "stopped" in msgs


def test_sigterm_turns_new_connections_away_while_draining(make_server):
    """While a request is in flight after SIGTERM, a keep-alive client is told to close and a
    new connection gets no answer; the running request still completes."""
    srv = make_server(args=["--max-body-bytes", "64M"])
    keep = requests.Session()
    assert keep.get(srv.url + "/service").status_code == 200  # an idle keep-alive connection
    results = []

    def slow_upload():
        def gen():
            yield b'{"name": "'
            for _ in range(30):
                time.sleep(0.05)
                yield b"z" * 1000
            yield b'"}'
        r = requests.post(srv.url + "/service", data=gen(),
                          headers={"Content-Type": "application/json"}, timeout=30)
        results.append(r.status_code)

    t = threading.Thread(target=slow_upload)
    t.start()
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    r = keep.get(srv.url + "/service", timeout=5)
    assert r.status_code == 200 and r.headers.get("Connection", "").lower() == "close"
    try:
        fresh = requests.get(srv.url + "/service", timeout=5)
        raise AssertionError(f"a new connection was served while stopping: {fresh.status_code}")
    except requests.ConnectionError:
        pass
    t.join(30)
    assert results == [200]
    assert srv.stop(sig=signal.SIGTERM) == 0


def test_sigterm_under_load_exits_cleanly(make_server):
    """Stopping while many keep-alive clients are busy must never abort (libmicrohttpd's
    quiesce raced its own workers here and aborted the process about once in a thousand)."""
    for _ in range(15):
        srv = make_server()
        stop = threading.Event()

        def hammer():
            sess = requests.Session()
            while not stop.is_set():
                try:
                    sess.get(srv.url + "/service", timeout=5)
                except requests.RequestException:
                    return

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.1)
        rc = srv.stop(sig=signal.SIGTERM)
        stop.set()
        for t in threads:
            t.join(10)
        assert rc == 0, srv.stderr()


def test_sigint_stops_cleanly(make_server):
    srv = make_server()
    assert srv.stop(sig=signal.SIGINT) == 0


def test_log_lines_are_json(server):
    server.get("/service")
    lines = server.stderr().splitlines()
    assert lines
    for line in lines:
        json.loads(line)
