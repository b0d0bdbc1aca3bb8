"""`--dist loadgroup` keeps an `xdist_group` on one worker (what the self-tests' groups rely on: one worker at a time in
this clone's .nox folder, the suite run once per module). Under pytest 9.2 with pytest-xdist 3.8 the marks were
silently ignored (xdist writes `item._nodeid`, which 9.2 no longer reads): this fails if an upgrade does that again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = '''
import os
import time

import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    time.sleep(0.2)  # long enough that an idle worker would take some of them if the group were not honoured
    with open(os.path.join(os.environ["PROBE_OUT"], f"grouped-{n}"), "w") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.parametrize("n", range(6))
def test_free(n):
    time.sleep(0.2)
'''


def test_an_xdist_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "test_probe.py", "-q", "-p", "no:cacheprovider",
                           "-n", "2", "--dist", "loadgroup", f"--basetemp={tmp_path / 'bt'}",
                           "-c", "/dev/null", f"--rootdir={tmp_path}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROBE_OUT": str(tmp_path)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    workers = [p.read_text() for p in tmp_path.glob("grouped-*")]
    assert len(workers) == 6 and len(set(workers)) == 1, workers
