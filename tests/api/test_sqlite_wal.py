# SPDX-License-Identifier: Apache-2.0
"""SQLite's write-ahead log stays bounded under a steady stream of writes.

Passive checkpoints alone never catch up with writers that keep coming, so no writer starts the
log over and it grows with every commit (862 MB during a 10,000-flow fill before the fix). The
checkpointer restarts the log once it passes about 64 MiB (src/store/sqlite.c, checkpoint)."""
import os
import pathlib
import subprocess
import sys
import threading

import pytest

from conftest import ON_PG

pytestmark = pytest.mark.skipif(ON_PG, reason="SQLite only")

GEN_FLOWS = pathlib.Path(__file__).resolve().parents[2] / "bench" / "gen_flows.py"
FLOWS = 10000
BOUND = 160 * 1024 * 1024  # 2.5 x journal_size_limit: a restart may land a little late


def test_wal_stays_bounded_during_a_write_burst(server):
    """bench/gen_flows.py's fast writers (4 persistent connections): 612 MB of log without
    the restart, about 64 MiB with it."""
    wal = server.data_dir / "tams.db-wal"
    largest = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            try:
                largest[0] = max(largest[0], os.stat(wal).st_size)
            except FileNotFoundError:
                pass

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        gen = subprocess.run([sys.executable, str(GEN_FLOWS), "--url", server.url, "--count",
                              str(FLOWS), "--conns", "4"], capture_output=True, timeout=600)
    finally:
        done.set()
        sampler.join()
    assert gen.returncode == 0, gen.stderr.decode()[-2000:]
    largest[0] = max(largest[0], os.stat(wal).st_size)
    assert largest[0] > 0
    assert largest[0] < BOUND, f"WAL reached {largest[0] >> 20} MiB"
    r = server.get("/flows", params={"limit": 1})
    assert r.status_code == 200 and len(r.json()) == 1
