"""Uploaded files, checked before any reader opens them: bounded size, safe names, zip
archives without path traversal or decompression bombs."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gridplan.errors import InputError, Problem

__all__ = ["UploadLimits", "check_zip", "safe_name", "store_upload"]


@dataclass(frozen=True)
class UploadLimits:
    """``max_bytes`` per uploaded file; for zips: ``max_unzipped_bytes`` in total,
    ``max_ratio`` (unzipped / zipped size of any member) and ``max_members``."""

    max_bytes: int = 100 * 1024 * 1024
    max_unzipped_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0
    max_members: int = 2000


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


def safe_name(name: str) -> str:
    """The file name without folders and with only safe characters (keeps the suffix)."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).lstrip(".")
    return base[:120] or "upload"


def check_zip(path: str | Path, limits: UploadLimits = UploadLimits()) -> list[str]:
    """Refuse a zip with absolute or ``..`` member paths, too many members, or members
    that unzip to more than the limits (a zip bomb); returns the member names."""
    p = Path(path)
    shown = p.name
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise InputError(Problem("not a readable zip file", shown, "zip the files again")) from None
    problems: list[Problem] = []
    if len(infos) > limits.max_members:
        problems.append(
            Problem(
                f"the zip holds {len(infos):,} files (at most {limits.max_members:,})",
                shown,
                "zip only the layer's files",
            )
        )
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name):
            problems.append(
                Problem(
                    f"member {name!r} points outside the archive",
                    shown,
                    "zip the files without absolute paths or '..'",
                )
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            problems.append(
                Problem(
                    f"member {name!r} unzips {ratio:,.0f} times larger than it is zipped "
                    f"(at most {limits.max_ratio:,.0f})",
                    shown,
                    "this looks like a zip bomb; zip the real files",
                )
            )
    if total > limits.max_unzipped_bytes:
        problems.append(
            Problem(
                f"the zip unzips to {_mb(total)} (at most {_mb(limits.max_unzipped_bytes)})",
                shown,
                "split the data or simplify the geometry",
            )
        )
    if problems:
        raise InputError(problems)
    return [i.filename for i in infos]


def store_upload(
    name: str, data: bytes, folder: str | Path, limits: UploadLimits = UploadLimits()
) -> Path:
    """Write an uploaded file into ``folder`` under a safe name after the size check
    (and the zip checks for ``.zip``); returns its path."""
    if len(data) > limits.max_bytes:
        raise InputError(
            Problem(
                f"{safe_name(name)} is {_mb(len(data))}, above the upload limit of "
                f"{_mb(limits.max_bytes)}",
                safe_name(name),
                "upload a smaller file (simplify geometry, drop unused columns) or use the "
                "command line for big layers",
            )
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(name)
    path.write_bytes(data)
    if path.suffix.lower() == ".zip":
        try:
            check_zip(path, limits)
        except InputError:
            path.unlink(missing_ok=True)
            raise
    return path
