"""Replacing a file in one step: what a reader (a colleague, Excel, Power Query) finds is the
old file or the new one, whole, never half of it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def replace_atomically(target: Path, write: Callable[[Path], object], *,
                       fsync: bool = False) -> Path:
    """Let ``write(tmp)`` fill a temporary file beside ``target``, then put it in place.

    ``fsync``: flush the temporary file to disk before the rename (see :func:`fsync_file`),
    for files that must survive a power cut, such as the archived master.

    Not ``tempfile.mkstemp``: its 0600 mode survives the rename and would hide the result from
    colleagues on a shared drive; a plain new file honours the umask."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        if fsync:
            fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_bytes_atomically(target: Path, data: bytes) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "xb") as handle:
            handle.write(data)

    return replace_atomically(target, write)


def fsync_file(path: Path) -> None:
    """On disk before the rename: a power cut must not leave a renamed but empty file."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
