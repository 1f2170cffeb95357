"""Atomic file writes: write a temporary file beside the target, fsync, rename.

A failed write leaves no half-written file and the previous version untouched. The
temporary file sits beside the target (same folder, so the rename is atomic) and is
named ``.<stem>.<pid>-<random>.tmp<suffix>``; a write killed mid-way leaves it behind,
and the next write of the same target removes it once its process is gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

#: Temporaries without a process id (earlier releases) older than this are stale (s).
STALE_AFTER_S = 3600.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that killed writes of ``target`` left beside it
    (gridplan's own naming only: ``.<stem>.<pid>-….tmp<suffix>`` whose process is gone,
    or an older ``.<stem>.….tmp<suffix>`` over an hour old); returns what was removed."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    pattern = glob.escape(str(target.parent / f".{target.stem}.")) + f"*.tmp{target.suffix}*"
    own = re.compile(
        rf"^\.{re.escape(target.stem)}\.(?:(\d+)-)?[^/]*\.tmp{re.escape(target.suffix)}"
    )
    removed = []
    for name in glob.glob(pattern):
        p = Path(name)
        match = own.match(p.name)
        if match is None:
            continue
        stale = False
        if match.group(1) is not None:
            stale = not _alive(int(match.group(1)))
        else:
            with contextlib.suppress(OSError):
                stale = time.time() - p.stat().st_mtime > STALE_AFTER_S
        if stale:
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def _temporary(target: Path) -> Path:
    """A fresh temporary path beside ``target`` (not created: writers create it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.{os.getpid()}-", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers (GDAL) want to create the file themselves
    return tmp


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    The temporary file keeps the target's suffix so that writers which pick a
    format from the extension (GDAL, pandas) behave the same. On any exception the
    temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    tmp = _temporary(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        for leftover in (tmp, *tmp.parent.glob(tmp.name + "-*")):  # e.g. GPKG -wal/-shm
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_paths() -> Iterator[Callable[[str | os.PathLike[str]], Path]]:
    """Write a set of files all or nothing.

    Yields ``temp_for(target)``, which returns a temporary path beside ``target``.
    When the block ends without error every temporary file replaces its target;
    on any exception all temporary files are removed and no target is touched.
    """
    pairs: list[tuple[Path, Path]] = []

    def temp_for(target: str | os.PathLike[str]) -> Path:
        target = Path(target)
        tmp = _temporary(target)
        pairs.append((tmp, target))
        return tmp

    try:
        yield temp_for
        for tmp, _ in pairs:
            if not tmp.exists():
                raise FileNotFoundError(f"nothing was written to {tmp}")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        for tmp, target in pairs:
            os.replace(tmp, target)
        for parent in {t.parent for _, t in pairs}:
            _fsync_dir(parent)
    finally:
        for tmp, _ in pairs:
            for leftover in (tmp, *tmp.parent.glob(tmp.name + "-*")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
