"""Customer tiers: the thresholds that turn a customer's type and monthly spend (or
handsets) into a segment code, read from ``data/customer_tiers.yaml``.

Boundary rule (exact, no rounding): a tier written ``from: X`` takes X itself
(``X <= value``); ``over: X`` starts just above X (``X < value``). A tier ends where
the next higher tier of its family starts and the top tier is open-ended; ``to:`` is
the source's upper figure, for display and the synthetic demo only. Defaults: VIP
diamond ``over: 3000`` (3,000.01 diamond, 3,000 gold), gold ``from: 1500``, silver
``from: 666``. A customer below every tier of its family gets the family's ``below``
segment (public by default) and is counted.

Every figure marked ``assumption:`` in the file is listed by
:meth:`CustomerTiers.assumptions` (the app shows them as "not yet confirmed").
:func:`load_tiers` reports every problem of the file with its key and line.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from gridplan.errors import InputError, Problem
from gridplan.layers.segments import DEFAULT_SEGMENTS

__all__ = [
    "BASES",
    "DEFAULT_TIERS",
    "FAMILIES",
    "Assumption",
    "CustomerTiers",
    "FamilyTiers",
    "Tier",
    "default_tiers",
    "load_tiers",
]

#: the bundled default tier file
DEFAULT_TIERS = Path(__file__).resolve().parent.parent.parent / "data" / "customer_tiers.yaml"
#: the customer families (types), in the order of the file and of DEFAULT_SEGMENTS
FAMILIES: tuple[str, ...] = ("group", "vip", "large", "business", "public")
#: what a family's tiers are banded by: monthly spend (CNY/month) or handsets
BASES: tuple[str, ...] = ("spend", "handsets")


@dataclass(frozen=True)
class Assumption:
    """A figure of the tier file that is not in the source material."""

    key: str  # e.g. "large.tiers.large_crown"
    text: str
    line: int


@dataclass(frozen=True)
class Tier:
    """One tier: ``threshold`` is its lower bound (CNY/month or handsets), taken
    itself unless ``strict`` (``over:``); ``upper`` is the source's upper figure
    (display only, ``None`` when open)."""

    code: str
    threshold: float
    strict: bool = False
    upper: float | None = None

    def admits(self, values: np.ndarray) -> np.ndarray:
        """Mask of ``values`` at or above this tier's lower bound."""
        return values > self.threshold if self.strict else values >= self.threshold

    def band(self, unit: str) -> str:
        """The tier's band in words, e.g. ``"> 3,000 CNY/month"``, ``"1,500–3,000 …"``."""
        low = f"{self.threshold:,.10g}"
        if self.upper is None:
            return f"{'>' if self.strict else '≥'} {low} {unit}"
        return f"{'>' if self.strict else ''}{low}–{self.upper:,.10g} {unit}"


@dataclass(frozen=True)
class FamilyTiers:
    """The tiers of one family, highest first; ``by`` is ``"spend"`` or
    ``"handsets"`` and picks ``tiers`` or ``spend_tiers`` (group clients)."""

    family: str
    by: str
    tiers: tuple[Tier, ...]
    below: str
    spend_tiers: tuple[Tier, ...] = ()

    @property
    def active(self) -> tuple[Tier, ...]:
        """The tiers the derivation uses (``spend_tiers`` for a group banded by spend)."""
        return self.spend_tiers if self.by == "spend" and self.spend_tiers else self.tiers

    @property
    def unit(self) -> str:
        return "handsets" if self.by == "handsets" else "CNY/month"

    def derive(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment codes of ``values`` (object array) and the mask of values below
        every tier (given ``below``); NaN values count as below."""
        values = np.asarray(values, dtype=float)
        out = np.full(len(values), self.below, dtype=object)
        under = np.ones(len(values), dtype=bool)
        for tier in reversed(self.active):  # lowest first: higher tiers overwrite
            ok = tier.admits(values)
            out[ok] = tier.code
            under &= ~ok
        return out, under


@dataclass(frozen=True)
class CustomerTiers:
    """Every family's tiers and the file's assumptions (see the module docstring)."""

    families: tuple[FamilyTiers, ...]
    source: str = str(DEFAULT_TIERS)
    notes: tuple[Assumption, ...] = field(default=())

    def family(self, name: str) -> FamilyTiers:
        for f in self.families:
            if f.family == name:
                return f
        raise KeyError(name)

    def assumptions(self) -> tuple[Assumption, ...]:
        """The figures not in the source material ("not yet confirmed")."""
        return self.notes

    def codes(self) -> tuple[str, ...]:
        """Every tier code, in file order (the tiers, not the group spend tiers)."""
        return tuple(t.code for f in self.families for t in f.tiers)


def default_tiers() -> CustomerTiers:
    """The bundled default tiers (data/customer_tiers.yaml)."""
    return load_tiers(DEFAULT_TIERS)


# --------------------------------------------------------------------------- loading


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


@dataclass
class _Reader:
    """Walks the YAML nodes, collecting every problem with its key and line."""

    where: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[Assumption] = field(default_factory=list)

    def add(self, what: str, node: yaml.Node | None, fix: str) -> None:
        at = self.where if node is None else f"{self.where}, line {_line(node)}"
        self.problems.append(Problem(what, at, fix))

    def mapping(
        self, node: yaml.Node, key: str, fix: str
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.add(f"'{key}' must be a mapping", node, fix)
            return []
        return [(str(k.value), k, v) for k, v in node.value]

    def number(self, node: yaml.Node, key: str) -> float | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        ):
            shown = node.value if isinstance(node, yaml.ScalarNode) else type(node).__name__
            self.add(
                f"'{key}' must be a number, got {shown!r}", node, f"write a number for '{key}'"
            )
            return None
        value = float(yaml.safe_load(node.value))
        if not math.isfinite(value) or value < 0:
            self.add(f"'{key}' must be zero or more, got {value:g}", node, "give a value >= 0")
            return None
        return value

    def text(self, node: yaml.Node, key: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and str(node.value).strip():
            return str(node.value).strip()
        self.add(f"'{key}' must be a text", node, f"write a text for '{key}'")
        return None


_TIER_KEYS = ("from", "over", "to", "assumption")
_FAMILY_KEYS = ("by", "below", "tiers", "spend_tiers")


def _tier(code: str, knode: yaml.Node, vnode: yaml.Node, key: str, r: _Reader) -> Tier | None:
    got: dict[str, object] = {}
    for name, fk, fv in r.mapping(vnode, key, "write e.g. {from: 1500, to: 3000}"):
        if name not in _TIER_KEYS:
            r.add(f"unknown key '{key}.{name}'", fk, f"use {', '.join(_TIER_KEYS)}")
        elif name == "assumption":
            text = r.text(fv, f"{key}.assumption")
            if text:
                r.notes.append(Assumption(key, text, _line(fk)))
        else:
            got[name] = r.number(fv, f"{key}.{name}")
    if ("from" in got) == ("over" in got):
        r.add(f"'{key}' needs one of 'from' (>=) or 'over' (>)", knode, "write e.g. {from: 666}")
        return None
    low = got.get("from", got.get("over"))
    if low is None or ("to" in got and got["to"] is None):
        return None
    return Tier(code, float(low), "over" in got, got.get("to"))  # type: ignore[arg-type]


def _tiers(node: yaml.Node, key: str, family: str, r: _Reader) -> tuple[Tier, ...]:
    codes = {s.code for s in DEFAULT_SEGMENTS if s.family == family}
    out: list[Tier] = []
    for code, k, v in r.mapping(node, key, "map each segment code to {from: X}"):
        if code not in codes:
            r.add(
                f"unknown segment '{key}.{code}' for {family}",
                k,
                f"use one of {', '.join(sorted(codes))} (gridplan/layers/segments.py)",
            )
            continue
        tier = _tier(code, k, v, f"{key}.{code}", r)
        if tier is not None:
            out.append(tier)
    for hi, lo in itertools.pairwise(out):
        if not (hi.threshold > lo.threshold or (hi.threshold == lo.threshold and hi.strict)):
            r.add(
                f"'{key}': {hi.code} must start above {lo.code}",
                node,
                "list the tiers highest first, each threshold above the next",
            )
    return tuple(out)


def _family(name: str, knode: yaml.Node, vnode: yaml.Node, r: _Reader) -> FamilyTiers | None:
    got: dict[str, object] = {}
    for key, fk, fv in r.mapping(vnode, name, f"give {', '.join(_FAMILY_KEYS)}"):
        if key not in _FAMILY_KEYS:
            r.add(f"unknown key '{name}.{key}'", fk, f"use {', '.join(_FAMILY_KEYS)}")
        elif key == "by":
            by = r.text(fv, f"{name}.by")
            if by is not None and by not in BASES:
                r.add(f"'{name}.by' must be spend or handsets, got {by!r}", fv, "write spend")
            got["by"] = by
        elif key == "below":
            got["below"] = _below(name, fv, r)
        else:
            got[key] = _tiers(fv, f"{name}.{key}", name, r)
    for key in ("by", "below", "tiers"):
        if key not in got:
            r.add(f"missing '{name}.{key}'", knode, f"add '{key}' to '{name}'")
    if got.get("by") == "spend" and name == "group" and not got.get("spend_tiers"):
        r.add("'group.by' is spend but there are no 'group.spend_tiers'", knode, "add them")
    if got.get("by") == "handsets" and name != "group":
        r.add(
            f"'{name}.by' must be spend (only group clients go by handsets)", knode, "write spend"
        )
    if any(got.get(k) is None for k in ("by", "below", "tiers")) or r.problems:
        return None
    return FamilyTiers(name, got["by"], got["tiers"], got["below"], got.get("spend_tiers", ()))  # type: ignore[arg-type]


def _below(name: str, node: yaml.Node, r: _Reader) -> str | None:
    codes = {s.code for s in DEFAULT_SEGMENTS}
    code: str | None = None
    if isinstance(node, yaml.ScalarNode):
        code = r.text(node, f"{name}.below")
    else:
        for key, k, v in r.mapping(node, f"{name}.below", "write {segment: public}"):
            if key == "segment":
                code = r.text(v, f"{name}.below.segment")
            elif key == "assumption":
                text = r.text(v, f"{name}.below.assumption")
                if text:
                    r.notes.append(Assumption(f"{name}.below", text, _line(k)))
            else:
                r.add(f"unknown key '{name}.below.{key}'", k, "use segment, assumption")
    if code is not None and code not in codes:
        r.add(
            f"unknown segment {code!r} in '{name}.below'", node, "use a segment code, e.g. public"
        )
        return None
    return code


def load_tiers(path: str | Path = DEFAULT_TIERS) -> CustomerTiers:
    """Read a tier file; every problem is reported with its key and line.

    Raises :class:`~gridplan.errors.InputError` for unreadable YAML, an unknown family,
    segment or key, a missing or non-numeric threshold, or tiers out of order.
    """
    path = Path(path)
    where = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(Problem(f"cannot read the file ({exc})", where, "check the path")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{where}, line {mark.line + 1}" if mark is not None else where
        raise InputError(Problem(f"not valid YAML ({exc})", loc, "fix the YAML syntax")) from exc
    r = _Reader(where)
    families: dict[str, FamilyTiers] = {}
    fix = f"use version and the families {', '.join(FAMILIES)}"
    for name, k, v in r.mapping(root, "the file", "see data/customer_tiers.yaml"):
        if name == "version":
            continue
        if name not in FAMILIES:
            r.add(f"unknown family '{name}'", k, fix)
            continue
        fam = _family(name, k, v, r)
        if fam is not None:
            families[name] = fam
    for name in FAMILIES:
        if name not in families and not r.problems:
            r.add(f"missing family '{name}'", None, f"add '{name}' (see data/customer_tiers.yaml)")
    if r.problems:
        raise InputError(r.problems)
    return CustomerTiers(tuple(families[n] for n in FAMILIES), source=where, notes=tuple(r.notes))
