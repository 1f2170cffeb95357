"""Errors a planner can act on: each says what is wrong, where, and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class GridplanError(ValueError):
    """Base class of every error gridplan raises on purpose (the CLI prints these, no
    traceback). A :class:`ValueError`: a bad value given to gridplan, as in osmnx."""


@dataclass(frozen=True)
class Problem:
    """One problem found in the input.

    ``what`` names the problem, ``where`` the file/layer and the rows or feature ids,
    ``fix`` what the planner can do about it.
    """

    what: str
    where: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}. Fix: {self.fix}"


class InputError(GridplanError):
    """The input cannot be used; carries every problem found in one go."""

    def __init__(self, problems: Problem | Iterable[Problem]):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one Problem")
        super().__init__(self._format())

    def __reduce__(self) -> tuple:
        # rebuilt from its problems (Dask and process pools send errors back pickled)
        return (type(self), (self.problems,))

    def _format(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the input:"]
        lines += [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        return "\n".join(lines)


class InfeasibleError(GridplanError):
    """The settings cannot be met; the message gives the numbers and the choices."""

    def __init__(self, message: str, *, suggestions: Iterable[str] = ()):
        self.suggestions: tuple[str, ...] = tuple(suggestions)
        self.message = message
        text = message
        if self.suggestions:
            text += "\nChoices: " + "; ".join(self.suggestions)
        super().__init__(text)

    def __reduce__(self) -> tuple:
        return (_infeasible, (type(self), self.message, self.suggestions))


def _infeasible(cls: type, message: str, suggestions: tuple[str, ...]) -> InfeasibleError:
    """An :class:`InfeasibleError` (or subclass) rebuilt after pickling."""
    return cls(message, suggestions=suggestions)
