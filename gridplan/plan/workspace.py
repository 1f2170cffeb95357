"""The workspace: named plans and every saved version, in one SQLite file.

Each version records who saved it, when (UTC), why (a comment), the version it was
based on, and what changed against that base and against the latest version (grids
moved from which manager to which, grids added or removed). Saves of one workspace
serialise (``BEGIN IMMEDIATE``: the next version number is taken inside the write
lock), so two planners pressing Save at once get versions 8 and 9, and the second is
told that version 8 was saved meanwhile.

Storage is compact: a version is a manifest of content-addressed parts (GeoParquet,
zstd) — the cells' geometry and figures, the cell → grid assignment, the grids, the
grid → manager assignment, the team, the customers, sites and districts — so parts
that did not change (the cells' geometry above all) are stored once for every version
that shares them. :meth:`Workspace.prune` keeps the last N versions and every tagged
one. Workspaces written by earlier releases (a whole GeoPackage per version) still open.

A failed save leaves the workspace as it was and raises :class:`WorkspaceError` (a
:class:`~gridplan.errors.GridplanError`) that says what failed and what to do. Default
path: the user's data directory (``platformdirs``), or ``$GRIDPLAN_WORKSPACE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.errors import GridplanError, InputError, Problem
from gridplan.plan.model import Plan, check_plan_tables, load_plan
from gridplan.plan.targets import targets_changes

__all__ = [
    "BASE_PLAN_KEY",
    "BASE_VERSION_KEY",
    "WORKSPACE_ENV",
    "Version",
    "Workspace",
    "WorkspaceError",
    "default_workspace_path",
    "describe_changes",
    "plan_changes",
]

WORKSPACE_ENV = "GRIDPLAN_WORKSPACE"

#: Plan meta keys that tie an open plan to the workspace version it came from.
BASE_PLAN_KEY = "workspace_plan"
BASE_VERSION_KEY = "workspace_version"
_BASE_KEYS = (BASE_PLAN_KEY, BASE_VERSION_KEY)

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
    data BLOB,
    manifest TEXT,
    base INTEGER,
    changes_latest TEXT,
    tag TEXT,
    UNIQUE (plan, version)
);
CREATE TABLE IF NOT EXISTS parts (
    digest TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""
#: Columns added since the first release (an old workspace gets them on open).
_NEW_COLUMNS = {"manifest": "TEXT", "base": "INTEGER", "changes_latest": "TEXT", "tag": "TEXT"}


class WorkspaceError(GridplanError):
    """The workspace file could not be read or written (disk full, read-only, locked…).

    The message says what failed, that nothing was lost, and what to do."""


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
    comment, the changes against the version it was based on (see
    :func:`plan_changes`), that base version (``None`` for a first save or a plan not
    opened from the workspace), the changes against the latest version when another
    version was saved meanwhile, and ``notice``: a sentence for the saver when that
    happened ("saved as version 8; version 7 was saved by Li at 10:42 …")."""

    plan: str
    version: int
    author: str
    saved_at: str
    comment: str
    changes: dict[str, Any]
    base: int | None = None
    changes_latest: dict[str, Any] | None = None
    notice: str = ""
    tag: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def plan_changes(old: Plan | None, new: Plan) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: ``moved`` (list of ``{grid_id, from, to}``,
    managers' names), ``added`` and ``removed`` grid ids, ``cells_moved`` (cells whose
    grid changed), ``team_added``/``team_removed`` and, from the KPI targets the plans
    carry (:mod:`gridplan.plan.targets`), ``targets_changed`` (``{measure, level, unit,
    from, to}``) and ``actuals_changed``."""
    if old is None:
        return {
            **targets_changes(None, new.meta),
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
        **targets_changes(old.meta, new.meta),
    }


def describe_changes(changes: dict[str, Any], limit: int = 5) -> str:
    """A sentence for the audit trail: "3 grids moved (G1: CM01 → CM02, …); 2 grids added"."""
    targets = _describe_targets(changes, limit)
    if changes.get("first"):
        head = f"first version ({len(changes.get('added', []))} grids)"
        return "; ".join([head, *targets])
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
    return "; ".join([*parts, *targets]) or "no change"


def _describe_targets(changes: dict[str, Any], limit: int) -> list[str]:
    """ "2 targets changed (revenue city: 1,000,000 → 1,200,000, …)"; "actuals updated"."""
    out = []
    changed = changes.get("targets_changed") or []
    if changed:

        def value(x: Any) -> str:
            return "—" if x is None else f"{x:,g}"

        shown = ", ".join(
            f"{c['measure']} {c['level']}{' ' + c['unit'] if c['unit'] else ''}: "
            f"{value(c['from'])} → {value(c['to'])}"
            for c in changed[:limit]
        )
        more = f", … {len(changed) - limit} more" if len(changed) > limit else ""
        noun = "target" if len(changed) == 1 else "targets"
        out.append(f"{len(changed)} {noun} changed ({shown}{more})")
    if changes.get("actuals_changed"):
        out.append("actuals updated")
    return out


# ------------------------------------------------------------------ storage of parts


def _parquet(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet bytes (GeoParquet for a GeoDataFrame), zstd-compressed."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def _read_parquet(data: bytes) -> pd.DataFrame:
    import pyarrow.parquet as pq

    buf = io.BytesIO(data)
    meta = pq.read_schema(buf).metadata or {}
    buf.seek(0)
    if b"geo" in meta:
        import geopandas as gpd

        return gpd.read_parquet(buf)
    return pd.read_parquet(buf)


def _split_plan(plan: Plan) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The plan as parts (name → bytes) and the manifest entries that rebuild it."""
    cells, grids = plan.cells, plan.grids
    parts = {
        "cells": _parquet(cells.drop(columns=["grid_id"])),
        "cells_grid": _parquet(pd.DataFrame(cells[["cell_id", "grid_id"]])),
        "grids": _parquet(grids.drop(columns=["manager"])),
        "grids_manager": _parquet(pd.DataFrame(grids[["grid_id", "manager"]])),
        "managers": _parquet(pd.DataFrame(plan.managers)),
    }
    for name in ("customers", "sites", "districts", "units", "staff"):
        frame = getattr(plan, name)
        if frame is not None and len(frame):
            parts[name] = _parquet(frame)
    layout = {
        "cells_columns": [str(c) for c in cells.columns],
        "grids_columns": [str(c) for c in grids.columns],
        "meta": {k: str(v) for k, v in plan.meta.items() if k not in _BASE_KEYS},
    }
    return parts, layout


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _light_plan(
    name: str, frames: dict[str, pd.DataFrame], meta: dict[str, str] | None = None
) -> Plan:
    """A plan holding only what :func:`plan_changes` compares (ids, assignments, meta)."""
    return Plan(
        name=name,
        cells=frames["cells_grid"],
        grids=frames["grids_manager"],
        managers=frames["managers"],
        meta=meta or {},
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _storage_error(action: str, path: Path, exc: BaseException, state: str) -> WorkspaceError:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return WorkspaceError(
        f"could not {action} the workspace {path} ({reason}). Nothing was lost: {state}. "
        f"Fix: free disk space or check that {path.parent} is writable, then try again; "
        f"or set {WORKSPACE_ENV} to another file"
    )


class Workspace:
    """A SQLite workspace file (created on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else default_workspace_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self._schema_is_current():
                self._create_schema()
        except (sqlite3.Error, OSError) as exc:
            raise _storage_error("open", self.path, exc, "no plan was changed") from None

    def _schema_is_current(self) -> bool:
        """True when the tables and every column exist (opening then writes nothing)."""
        if not self.path.exists():
            return False
        with self._connect() as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            have = {row[1] for row in con.execute("PRAGMA table_info(versions)")}
        return {"versions", "parts"} <= tables and set(_NEW_COLUMNS) <= have

    def _create_schema(self) -> None:
        """Create the tables, or add the columns a first-release workspace lacks."""
        with self._connect(write=True) as con:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            have = {row[1] for row in con.execute("PRAGMA table_info(versions)")}
            for col, kind in _NEW_COLUMNS.items():
                if col not in have:
                    con.execute(f"ALTER TABLE versions ADD COLUMN {col} {kind}")

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success, rolled back on error).

        ``write=True`` takes the write lock first (``BEGIN IMMEDIATE``), so a save reads
        the latest version number and writes the next one with nobody in between; other
        savers wait (busy timeout 60 s)."""
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout=60000")
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
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
        ``saved_at`` UTC, ``comment``, ``changes`` as a sentence (against the version it
        was based on), ``n_grids``, ``n_managers``, ``base`` (the version it was based
        on, 0 when none) and ``tag``), newest first; all plans when ``plan`` is None."""
        cols = ["plan", "version", "author", "saved_at", "comment", "changes"]
        cols += ["n_grids", "n_managers", "base", "tag"]
        q = f"SELECT {', '.join(cols)} FROM versions"
        args: tuple[Any, ...] = ()
        if plan is not None:
            q += " WHERE plan = ?"
            args = (plan,)
        q += " ORDER BY id DESC"
        with self._connect() as con:
            rows = con.execute(q, args).fetchall()
        df = pd.DataFrame(rows, columns=cols)
        df["changes"] = [describe_changes(json.loads(c)) for c in df["changes"]]
        df["base"] = pd.to_numeric(df["base"]).fillna(0).astype(int)
        df["tag"] = df["tag"].fillna("").astype(str)
        return df

    def version(self, plan: str, version: int | None = None) -> Version:
        """The record of one version (the latest when ``version`` is None)."""
        row = self._row(
            plan, version, "plan, version, author, saved_at, comment, changes, base, tag"
        )
        base = None if row[6] is None else int(row[6])
        changes = json.loads(row[5])
        return Version(row[0], int(row[1]), row[2], row[3], row[4], changes, base, tag=row[7] or "")

    def _row(self, plan: str, version: int | None, cols: str) -> tuple[Any, ...]:
        with self._connect() as con:
            row = self._fetch(con, plan, version, cols)
        if row is None:
            what = f"plan {plan!r}" + ("" if version is None else f" version {version}")
            raise InputError(
                Problem(f"no {what} in the workspace", str(self.path), "pick a saved plan")
            )
        return row

    @staticmethod
    def _fetch(
        con: sqlite3.Connection, plan: str, version: int | None, cols: str
    ) -> tuple[Any, ...] | None:
        if version is None:
            return con.execute(
                f"SELECT {cols} FROM versions WHERE plan = ? ORDER BY version DESC LIMIT 1",
                (plan,),
            ).fetchone()
        return con.execute(
            f"SELECT {cols} FROM versions WHERE plan = ? AND version = ?", (plan, int(version))
        ).fetchone()

    @staticmethod
    def _parts(con: sqlite3.Connection, manifest: dict[str, Any], names: list[str]) -> dict:
        out = {}
        for name in names:
            digest = manifest["parts"].get(name)
            if digest is None:
                continue
            (data,) = con.execute("SELECT data FROM parts WHERE digest = ?", (digest,)).fetchone()
            out[name] = _read_parquet(bytes(data))
        return out

    def load(self, plan: str, version: int | None = None) -> Plan:
        """The plan as saved (the latest version when ``version`` is None). The plan's
        meta records which version it is (``workspace_plan``, ``workspace_version``), so
        saving it again names that version as its base."""
        with self._connect() as con:
            row = self._fetch(con, plan, version, "version, manifest, data")
            if row is None:
                self._row(plan, version, "version")  # raises the "no plan" error
            number, manifest, data = row
            if manifest is None:
                loaded = _load_legacy(bytes(data))
            else:
                m = json.loads(manifest)
                loaded = self._rebuild(plan, m, self._parts(con, m, list(m["parts"])))
        meta = {**dict(loaded.meta), BASE_PLAN_KEY: plan, BASE_VERSION_KEY: str(number)}
        return loaded.with_(name=plan, meta=meta)

    @staticmethod
    def _rebuild(name: str, manifest: dict[str, Any], frames: dict[str, pd.DataFrame]) -> Plan:
        # the parts of one table come from the same rows in the same order: join by row
        cells = frames["cells"].assign(grid_id=frames["cells_grid"]["grid_id"].to_numpy())
        grids = frames["grids"].assign(manager=frames["grids_manager"]["manager"].to_numpy())
        cells = cells[manifest["cells_columns"]]
        grids = grids[manifest["grids_columns"]]
        grids["manager"] = grids["manager"].fillna("").astype(str)
        return Plan(
            name=name,
            cells=cells,
            grids=grids,
            managers=frames["managers"],
            customers=frames.get("customers"),
            sites=frames.get("sites"),
            districts=frames.get("districts"),
            meta=manifest.get("meta", {}),
            units=frames.get("units"),
            staff=frames.get("staff"),
        )

    def _light(self, con: sqlite3.Connection, plan: str, version: int) -> Plan | None:
        """Ids and assignments of one saved version (enough for :func:`plan_changes`)."""
        row = self._fetch(con, plan, version, "manifest, data")
        if row is None:
            return None
        manifest, data = row
        if manifest is None:
            return _load_legacy(bytes(data))
        m = json.loads(manifest)
        frames = self._parts(con, m, ["cells_grid", "grids_manager", "managers"])
        return _light_plan(plan, frames, m.get("meta", {}))

    # ------------------------------------------------------------ writing
    def save(
        self,
        plan: Plan,
        *,
        name: str | None = None,
        author: str,
        comment: str = "",
        base_version: int | None = None,
    ) -> Version:
        """Save ``plan`` as the next version of ``name`` (default ``plan.name``).

        ``base_version`` is the version the planner started from (default: the one the
        plan was opened as, recorded in its meta). The changes are computed against that
        base and, when someone saved another version meanwhile, against the latest too;
        :attr:`Version.notice` then tells the saver. Raises :class:`WorkspaceError` when
        the file cannot be written (nothing is lost: the workspace keeps its versions)."""
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
        check_plan_tables(plan)
        if base_version is None and plan.meta.get(BASE_PLAN_KEY) == name:
            base_version = int(plan.meta.get(BASE_VERSION_KEY, 0)) or None
        parts, layout = _split_plan(plan.with_(name=name))
        try:
            return self._write(plan.with_(name=name), parts, layout, author, comment, base_version)
        except (sqlite3.Error, OSError) as exc:
            state = (
                "the workspace still holds every version saved before, and your plan is unchanged"
            )
            raise _storage_error("save to", self.path, exc, state) from None

    def _write(
        self,
        plan: Plan,
        parts: dict[str, bytes],
        layout: dict[str, Any],
        author: str,
        comment: str,
        base: int | None,
    ) -> Version:
        digests = {part: _digest(data) for part, data in parts.items()}
        manifest = json.dumps({"parts": digests, **layout}, ensure_ascii=False)
        with self._connect(write=True) as con:  # one transaction, inside the write lock
            (last,) = con.execute(
                "SELECT COALESCE(MAX(version), 0) FROM versions WHERE plan = ?", (plan.name,)
            ).fetchone()
            last = int(last)
            if base is not None and not (0 < base <= last):
                base = None
            ref = base if base is not None else (last or None)
            against = self._light(con, plan.name, ref) if ref else None
            changes = plan_changes(against, plan)
            latest = None
            if ref is not None and ref != last:
                latest = plan_changes(self._light(con, plan.name, last), plan)
            for part, data in parts.items():
                con.execute(
                    "INSERT OR IGNORE INTO parts (digest, data) VALUES (?, ?)",
                    (digests[part], sqlite3.Binary(data)),
                )
            when = _now()
            number = last + 1
            con.execute(
                "INSERT INTO versions (plan, version, author, saved_at, comment, changes, "
                "n_grids, n_managers, data, manifest, base, changes_latest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, X'', ?, ?, ?)",  # data: the first release's column
                (
                    plan.name, number, author, when, comment.strip(), json.dumps(changes),
                    len(plan.grids), len(plan.managers), manifest, ref,
                    None if latest is None else json.dumps(latest),
                ),
            )  # fmt: skip
            notice = self._notice(con, plan.name, number, ref, last) if latest else ""
        return Version(
            plan.name, number, author, when, comment.strip(), changes, ref, latest, notice
        )

    @staticmethod
    def _notice(con: sqlite3.Connection, plan: str, number: int, base: int, last: int) -> str:
        who, when = con.execute(
            "SELECT author, saved_at FROM versions WHERE plan = ? AND version = ?", (plan, last)
        ).fetchone()
        others = last - base
        between = f"version {last} was" if others == 1 else f"versions {base + 1}–{last} were"
        return (
            f"saved as version {number}; {between} saved meanwhile (the latest by {who} at "
            f"{when} UTC) after version {base} that you started from. Compare them before "
            "handing over."
        )

    def tag(self, plan: str, version: int, tag: str) -> None:
        """Name a version (e.g. "approved 2026-12"); tagged versions survive :meth:`prune`.
        An empty tag removes the name."""
        self._row(plan, version, "version")
        with self._connect(write=True) as con:
            con.execute(
                "UPDATE versions SET tag = ? WHERE plan = ? AND version = ?",
                (tag.strip() or None, plan, int(version)),
            )

    def prune(self, plan: str, keep_last: int) -> int:
        """Delete the versions of ``plan`` older than the last ``keep_last``, except the
        tagged ones, and the stored parts nobody uses any more; returns how many versions
        were deleted. Version numbers of the kept versions do not change."""
        if int(keep_last) < 1:
            raise InputError(
                Problem(f"keep_last={keep_last}", "prune", "keep at least the last version (1)")
            )
        with self._connect(write=True) as con:
            cur = con.execute(
                "DELETE FROM versions WHERE plan = ? AND tag IS NULL AND version NOT IN "
                "(SELECT version FROM versions WHERE plan = ? ORDER BY version DESC LIMIT ?)",
                (plan, plan, int(keep_last)),
            )
            removed = cur.rowcount
            self._collect_garbage(con)
        return removed

    @staticmethod
    def _collect_garbage(con: sqlite3.Connection) -> None:
        used: set[str] = set()
        for (manifest,) in con.execute("SELECT manifest FROM versions WHERE manifest IS NOT NULL"):
            used.update(json.loads(manifest)["parts"].values())
        stored = [row[0] for row in con.execute("SELECT digest FROM parts")]
        con.executemany(
            "DELETE FROM parts WHERE digest = ?", [(d,) for d in stored if d not in used]
        )

    def delete(self, plan: str) -> int:
        """Delete every version of a plan; returns how many were deleted."""
        with self._connect(write=True) as con:
            cur = con.execute("DELETE FROM versions WHERE plan = ?", (plan,))
            self._collect_garbage(con)
            return cur.rowcount

    def size_bytes(self) -> int:
        """Bytes the workspace file (and its write-ahead log) take on disk."""
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return sum(p.stat().st_size for p in files if p.exists())


def _load_legacy(data: bytes) -> Plan:
    """A version saved by an earlier release (a whole GeoPackage)."""
    with tempfile.TemporaryDirectory(prefix="gridplan-ws-") as tmp:
        p = Path(tmp) / "plan.gpkg"
        p.write_bytes(data)
        return load_plan(p)
