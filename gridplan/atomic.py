"""Atomic file writes: write a temporary file beside the target, fsync, rename.

A failed write leaves no half-written file and the previous version untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    The temporary file keeps the target's suffix so that writers which pick a
    format from the extension (GDAL, pandas) behave the same. On any exception the
    temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers (GDAL) want to create the file themselves
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
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
        )
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()
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
