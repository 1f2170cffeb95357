"""Progress reporting through a callback, so the engine stays free of any UI.

A callback receives the fraction done (0.0 to 1.0) and a short message. The UI
renders it with ``st.progress``, the CLI prints it to stderr.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A callback that ignores every report (the default)."""


def scaled(callback: ProgressCallback, start: float, stop: float) -> ProgressCallback:
    """Map a sub-task's 0..1 progress into ``start..stop`` of the parent's."""

    def report(fraction: float, message: str) -> None:
        callback(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

    return report
