"""Where the served plan comes from, and the swap to a newer version without a restart.

A :class:`PlanSource` serves one :class:`Snapshot` (a plan version's :class:`OwnerIndex`
and metadata) at a time. A watcher thread checks every ``check_every_s`` seconds,
cheaply, whether a newer version exists — the latest version number of the workspace
plan (one small SQLite query), or the plan file's modification time and size — and if
so loads it and builds its index *in that thread*; only a complete snapshot replaces
the served one (one reference assignment), so a request never sees a half-built index.
A version that fails to load is logged and the old one kept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridplan.errors import InputError, Problem
from gridplan.plan import Plan, load_plan
from gridplan.plan.workspace import Workspace
from gridplan.service.index import OwnerIndex

__all__ = ["PlanSource", "Snapshot"]

_LOG = logging.getLogger("gridplan.service")


@dataclass(frozen=True)
class Snapshot:
    """One served plan version: its index and its metadata (JSON-ready)."""

    index: OwnerIndex
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int | None:
        """The workspace version number (``None`` for a plan file saved elsewhere)."""
        return self.meta.get("version")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _base_meta(plan: Plan, index: OwnerIndex) -> dict[str, Any]:
    keep = ("city", "tolerance", "created", "synthetic", "workspace_version")
    return {
        "name": plan.name,
        "crs": str(plan.crs.to_string()) if plan.crs is not None else None,
        "cells": index.n_cells,
        "grids": index.n_grids,
        "managers": len(plan.managers),
        "customers": index.n_customers,
        "plan_meta": {k: str(plan.meta[k]) for k in keep if k in plan.meta},
        "loaded_at": _now(),
    }


class PlanSource:
    """A plan file (``plan_path``) or a workspace plan (``workspace`` + ``name``)."""

    def __init__(
        self,
        plan_path: str | Path | None = None,
        *,
        workspace: str | Path | None = None,
        name: str | None = None,
        check_every_s: float = 2.0,
    ):
        if (plan_path is None) == (workspace is None):
            raise InputError(
                Problem(
                    "give either a plan file or a workspace plan",
                    "--plan / --workspace",
                    "use --plan plan.gpkg, or --workspace FILE --name PLAN",
                )
            )
        if workspace is not None and not name:
            raise InputError(Problem("no plan name", "--name", "give --name PLAN"))
        if workspace is not None and not Path(workspace).is_file():
            raise InputError(
                Problem(
                    f"no workspace file {workspace}",
                    "--workspace",
                    "give the workspace the app saves to (.sqlite)",
                )
            )
        self._path = Path(plan_path) if plan_path is not None else None
        self._workspace = Workspace(workspace) if workspace is not None else None
        self._name = name
        self.check_every_s = check_every_s
        self._stamp: Any = self._latest_stamp()
        self._snapshot = self._build(self._stamp)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ serving
    @property
    def snapshot(self) -> Snapshot:
        """The complete snapshot served now."""
        return self._snapshot

    def start(self) -> None:
        """Start the watcher thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._watch, name="gridplan-plan-watcher", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the watcher thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every_s):
            self.refresh()

    def refresh(self) -> bool:
        """Load and index a newer version if there is one; True when swapped."""
        try:
            stamp = self._latest_stamp()
            if stamp == self._stamp:
                return False
            snapshot = self._build(stamp)
        except Exception as exc:  # keep serving the old version
            _LOG.warning("could not load the new plan version (%s); keeping the old one", exc)
            return False
        self._snapshot, self._stamp = snapshot, stamp
        _LOG.info("now serving %s", snapshot.meta.get("version") or snapshot.meta.get("name"))
        return True

    # ------------------------------------------------------------ loading
    def _latest_stamp(self) -> Any:
        """What changes when a new version is saved: (version number) or (mtime, size)."""
        if self._workspace is not None:
            assert self._name is not None
            return self._workspace.version(self._name).version
        assert self._path is not None
        if not self._path.is_file():
            raise InputError(
                Problem(f"no plan file {self._path}", "--plan", "give the path of a saved plan")
            )
        st = self._path.stat()
        return (st.st_mtime_ns, st.st_size)

    def _build(self, stamp: Any) -> Snapshot:
        if self._workspace is not None:
            assert self._name is not None
            plan = self._workspace.load(self._name, int(stamp))
            record = self._workspace.version(self._name, int(stamp))
            index = OwnerIndex(plan)
            meta = _base_meta(plan, index)
            meta.update(
                source="workspace",
                version=record.version,
                saved_at=record.saved_at,
                saved_by=record.author,
                comment=record.comment,
                tag=record.tag or None,
            )
            return Snapshot(index, meta)
        assert self._path is not None
        plan = load_plan(self._path)
        index = OwnerIndex(plan)
        meta = _base_meta(plan, index)
        version = plan.meta.get("workspace_version")
        meta.update(
            source="file",
            file=self._path.name,
            version=int(version) if version and str(version).isdigit() else None,
            saved_at=datetime.fromtimestamp(stamp[0] / 1e9, UTC).isoformat(timespec="seconds"),
            saved_by=plan.meta.get("author") or None,
        )
        return Snapshot(index, meta)
