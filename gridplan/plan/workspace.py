"""The workspace: named plans and every saved version, in one SQLite file.

Each version stores the whole plan (a GeoPackage, as bytes) with who saved it, when
(UTC), why (a comment) and what changed since the version before it (grids moved from
which manager to which, grids added or removed). Saves are one SQLite transaction:
a failed save leaves the workspace as it was. Default path: the user's data directory
(``platformdirs``), or the path in the ``GRIDPLAN_WORKSPACE`` environment variable.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.plan.model import Plan, load_plan, save_plan

__all__ = [
    "WORKSPACE_ENV",
    "Version",
    "Workspace",
    "default_workspace_path",
    "plan_changes",
]

WORKSPACE_ENV = "GRIDPLAN_WORKSPACE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan TEXT NOT NULL,
    version INTEGER NOT NULL,
    author TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    comment TEXT NOT NULL,
    changes TEXT NOT NULL,
    n_grids INTEGER NOT NULL,
    n_managers INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (plan, version)
);
"""


def default_workspace_path() -> Path:
    """``$GRIDPLAN_WORKSPACE`` if set, else ``<user data dir>/gridplan/workspace.sqlite``."""
    env = os.environ.get(WORKSPACE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("gridplan", appauthor=False)) / "workspace.sqlite"


@dataclass(frozen=True)
class Version:
    """One saved version: plan name, version number (1, 2, …), author, UTC time,
    comment, and the changes since the version before (see :func:`plan_changes`)."""

    plan: str
    version: int
    author: str
    saved_at: str
    comment: str
    changes: dict[str, Any]


def plan_changes(old: Plan | None, new: Plan) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: ``moved`` (list of ``{grid_id, from, to}``,
    managers' names), ``added`` and ``removed`` grid ids, ``cells_moved`` (cells whose
    grid changed) and ``team_added``/``team_removed``."""
    if old is None:
        return {
            "moved": [],
            "added": sorted(new.grids["grid_id"].astype(str)),
            "removed": [],
            "cells_moved": 0,
            "team_added": sorted(new.managers["manager"].astype(str)),
            "team_removed": [],
            "first": True,
        }
    a = old.grids.set_index(old.grids["grid_id"].astype(str))["manager"].fillna("").astype(str)
    b = new.grids.set_index(new.grids["grid_id"].astype(str))["manager"].fillna("").astype(str)
    common = a.index.intersection(b.index)
    diff = common[(a[common] != b[common]).to_numpy()]
    moved = [{"grid_id": g, "from": a[g], "to": b[g]} for g in sorted(diff)]
    ca = old.cells.set_index(old.cells["cell_id"].astype(str))["grid_id"].astype(str)
    cb = new.cells.set_index(new.cells["cell_id"].astype(str))["grid_id"].astype(str)
    cc = ca.index.intersection(cb.index)
    ta, tb = set(old.managers["manager"].astype(str)), set(new.managers["manager"].astype(str))
    return {
        "moved": moved,
        "added": sorted(set(b.index) - set(a.index)),
        "removed": sorted(set(a.index) - set(b.index)),
        "cells_moved": int((ca[cc] != cb[cc]).sum()),
        "team_added": sorted(tb - ta),
        "team_removed": sorted(ta - tb),
    }


def describe_changes(changes: dict[str, Any], limit: int = 5) -> str:
    """A sentence for the audit trail: "3 grids moved (G1: CM01 → CM02, …); 2 grids added"."""
    if changes.get("first"):
        return f"first version ({len(changes.get('added', []))} grids)"
    parts = []
    moved = changes.get("moved", [])
    if moved:
        shown = ", ".join(
            f"{m['grid_id']}: {m['from'] or '—'} → {m['to'] or '—'}" for m in moved[:limit]
        )
        more = f", … {len(moved) - limit} more" if len(moved) > limit else ""
        parts.append(f"{len(moved)} grids moved ({shown}{more})")
    for key, noun in (("added", "grids added"), ("removed", "grids removed")):
        if changes.get(key):
            parts.append(f"{len(changes[key])} {noun}")
    if changes.get("cells_moved"):
        parts.append(f"{changes['cells_moved']} cells changed grid")
    for key, noun in (("team_added", "managers added"), ("team_removed", "managers removed")):
        if changes.get(key):
            parts.append(f"{noun}: {', '.join(changes[key][:limit])}")
    return "; ".join(parts) or "no change"


class Workspace:
    """A SQLite workspace file (created on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else default_workspace_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success, rolled back on error)."""
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            with con:
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------ reading
    def plans(self) -> list[str]:
        """Names of the saved plans, most recently saved first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT plan, MAX(id) AS last FROM versions GROUP BY plan ORDER BY last DESC"
            ).fetchall()
        return [r[0] for r in rows]

    def versions(self, plan: str | None = None) -> pd.DataFrame:
        """The audit trail: one row per version (``plan``, ``version``, ``author``,
        ``saved_at`` UTC, ``comment``, ``changes`` as a sentence, ``n_grids``,
        ``n_managers``), newest first; all plans when ``plan`` is None."""
        q = (
            "SELECT plan, version, author, saved_at, comment, changes, n_grids, n_managers "
            "FROM versions"
        )
        args: tuple[Any, ...] = ()
        if plan is not None:
            q += " WHERE plan = ?"
            args = (plan,)
        q += " ORDER BY id DESC"
        with self._connect() as con:
            rows = con.execute(q, args).fetchall()
        cols = [
            "plan",
            "version",
            "author",
            "saved_at",
            "comment",
            "changes",
            "n_grids",
            "n_managers",
        ]
        df = pd.DataFrame(rows, columns=cols)
        df["changes"] = [describe_changes(json.loads(c)) for c in df["changes"]]
        return df

    def version(self, plan: str, version: int | None = None) -> Version:
        """The record of one version (the latest when ``version`` is None)."""
        row = self._row(plan, version, "plan, version, author, saved_at, comment, changes")
        return Version(row[0], int(row[1]), row[2], row[3], row[4], json.loads(row[5]))

    def _row(self, plan: str, version: int | None, cols: str) -> tuple[Any, ...]:
        with self._connect() as con:
            if version is None:
                row = con.execute(
                    f"SELECT {cols} FROM versions WHERE plan = ? ORDER BY version DESC LIMIT 1",
                    (plan,),
                ).fetchone()
            else:
                row = con.execute(
                    f"SELECT {cols} FROM versions WHERE plan = ? AND version = ?",
                    (plan, int(version)),
                ).fetchone()
        if row is None:
            what = f"plan {plan!r}" + ("" if version is None else f" version {version}")
            raise InputError(
                Problem(f"no {what} in the workspace", str(self.path), "pick a saved plan")
            )
        return row

    def load(self, plan: str, version: int | None = None) -> Plan:
        """The plan as saved (the latest version when ``version`` is None)."""
        (data,) = self._row(plan, version, "data")
        with tempfile.TemporaryDirectory(prefix="gridplan-ws-") as tmp:
            p = Path(tmp) / "plan.gpkg"
            p.write_bytes(data)
            return load_plan(p)

    # ------------------------------------------------------------ writing
    def save(
        self, plan: Plan, *, name: str | None = None, author: str, comment: str = ""
    ) -> Version:
        """Save ``plan`` as the next version of ``name`` (default ``plan.name``), with the
        author's name, the comment and the changes since the latest version."""
        name = (name or plan.name).strip()
        author = author.strip()
        if not name or not author:
            raise InputError(
                Problem(
                    "a save needs a plan name and the name of who saves it",
                    "save",
                    "fill in both names",
                )
            )
        previous = self.load(name) if name in self.plans() else None
        changes = plan_changes(previous, plan)
        plan = plan.with_(name=name)
        with tempfile.TemporaryDirectory(prefix="gridplan-ws-") as tmp:
            p = save_plan(plan, Path(tmp) / "plan.gpkg")
            data = p.read_bytes()
        when = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as con:  # one transaction: all or nothing
            (last,) = con.execute(
                "SELECT COALESCE(MAX(version), 0) FROM versions WHERE plan = ?", (name,)
            ).fetchone()
            con.execute(
                "INSERT INTO versions (plan, version, author, saved_at, comment, changes, "
                "n_grids, n_managers, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    int(last) + 1,
                    author,
                    when,
                    comment.strip(),
                    json.dumps(changes),
                    len(plan.grids),
                    len(plan.managers),
                    sqlite3.Binary(data),
                ),
            )
        return Version(name, int(last) + 1, author, when, comment.strip(), changes)

    def delete(self, plan: str) -> int:
        """Delete every version of a plan; returns how many were deleted."""
        with self._connect() as con:
            cur = con.execute("DELETE FROM versions WHERE plan = ?", (plan,))
            return cur.rowcount


__all__ += ["describe_changes"]
