"""Output files written whole or not at all: rules.json, safety.json, the HAR recording and the other reports."""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """`write_bytes` of `text` in UTF-8."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file beside it, renamed over it once complete.

    A run killed while it writes (Ctrl-C twice, a CI timeout), or a reader at the same moment (the next night's
    baseline, the matrix merge, a concurrent run's case cache), sees the old file or the new one, never the first part
    of one. The temporary file is created as `open(..., "x")` creates any file, so the result has the permissions a
    plain write would give it. A symlink stays one (its target is replaced); what is not a regular file
    (`/dev/stdout`, a pipe) is written as it is, for there is nothing to replace.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        regular = True
    if not regular:
        with open(path, "wb") as out:
            out.write(data)
        return
    real = Path(os.path.realpath(path))
    tmp = real.with_name(f".{real.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
