"""Reports are written whole or not at all (conformance/harness/atomic.py)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from conformance.harness import atomic


def test_the_text_replaces_the_file_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "rules.json"
    atomic.write_text(path, "first\n")
    atomic.write_text(path, "second, longer ✓\n")
    assert path.read_text(encoding="utf-8") == "second, longer ✓\n"
    assert [p.name for p in path.parent.iterdir()] == ["rules.json"]


def test_a_write_that_fails_half_way_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("the old verdicts\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate: no UTF-8 for it
        atomic.write_text(path, "x" * 200_000 + "\ud800")
    assert path.read_text(encoding="utf-8") == "the old verdicts\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rules.json"]


def test_the_file_gets_the_permissions_a_plain_write_gives(tmp_path: Path) -> None:
    plain, written = tmp_path / "plain.json", tmp_path / "written.json"
    plain.write_text("{}", encoding="utf-8")
    atomic.write_text(written, "{}")
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_symlink_stays_a_symlink_and_its_target_gets_the_text(tmp_path: Path) -> None:
    target, link = tmp_path / "night-1.json", tmp_path / "rules.json"
    target.write_text("old", encoding="utf-8")
    link.symlink_to(target)
    atomic.write_text(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"


def test_what_is_not_a_regular_file_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    atomic.write_text(fifo, "through the pipe")
    reader.join(10)
    assert got == ["through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)
