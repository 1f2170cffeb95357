"""The printable map book (matplotlib, no tiles): PDF or PNG pages on A4 landscape.

Pages: an overview of the whole city (territories coloured, areas outlined, a table
of the areas), one page per area and one per manager (the grids labelled on a plain
basemap of district boundaries, beside them a table of the grids: id, type,
population, customers by segment family, spend CNY/month, workload hours/month),
table continuation pages when a table is long, and hand-over pages when a previous
plan is given. Every map page has a title, the plan name, the date, a legend, a
scale bar (metres/kilometres) and a north arrow.

Geometry is drawn in the plan's work CRS (projected, metres; north is up to within
the UTM grid convergence, under 2° in a city). Chinese renders with the CJK font
the set-up installs (:mod:`gridplan.export.fonts`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.export.fonts import font_families
from gridplan.maps import (
    BOOK_OUTLINES,
    OrgView,
    check_language,
    group_colours,
    label,
    manager_colours,
    natural_key,
    ordered_codes,
    org_view,
    unit_outlines,
)
from gridplan.plan.handover import HandOver
from gridplan.plan.model import HOURS, Plan, areas, manager_table
from gridplan.plan.privacy import NO_PRIVACY, PrivacySettings, suppress_small_counts
from gridplan.plan.slices import area_of_manager, groups, unique_names

PAGE_SIZE = (11.69, 8.27)  # A4 landscape, inches
TABLE_ROWS = 34  # grid rows that fit beside the map; the rest go on continuation pages
HANDOVER_ROWS = 40
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("group", "Group", "集团"),
    ("vip", "VIP", "VIP"),
    ("large", "Large", "大客户"),
    ("business", "Business", "商业"),
    ("public", "Public", "公众"),
)
CONTEXT_FILL = "#eeeeee"
DISTRICT_EDGE = "#7a8aa8"


#: ``(area, managers)`` per area of a plan (``""``: managers without an area)
Groups = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class BookPage:
    """One page of the book: ``stem`` names its PNG file, ``kind`` is overview, unit
    (a section's title map, with an organisation), area, manager, table (continued) or
    handover; ``section``: the code of the area-level unit whose section the page is in
    (``""`` outside sections and in a book without an organisation)."""

    stem: str
    kind: str
    title: str
    section: str = ""


# ------------------------------------------------------------------ tables


def _family(code: str) -> str:
    from gridplan.layers.segments import DEFAULT_SEGMENTS

    for s in DEFAULT_SEGMENTS:
        if s.code == code:
            return s.family
    return "public"


def book_grid_table(plan: Plan, privacy: PrivacySettings = NO_PRIVACY) -> pd.DataFrame:
    """Per grid: ``grid_id``, ``grid_type``, ``manager``, ``area``, ``population``,
    ``customers``, ``cust_f_<family>`` (customers by segment family), ``spend``
    (CNY/month), ``hours_total`` (hours/month); small counts blanked per ``privacy``."""
    g = plan.grids
    out = pd.DataFrame({"grid_id": g["grid_id"].astype(str).to_numpy()})
    out["grid_type"] = g["grid_type"].astype(str).to_numpy() if "grid_type" in g else ""
    out["manager"] = g["manager"].fillna("").astype(str).to_numpy()
    out["area"] = out["manager"].map(area_of_manager(plan)).fillna("")
    for col in ("population", "customers"):
        out[col] = pd.to_numeric(g[col], errors="coerce").to_numpy() if col in g else np.nan
    for fam, _, _ in FAMILIES:
        cols = [c for c in g.columns if c.startswith("cust_") and _family(c[5:]) == fam]
        values = g[cols].apply(pd.to_numeric, errors="coerce").sum(axis=1) if cols else 0.0
        out[f"cust_f_{fam}"] = np.asarray(values, dtype=float)
    for col in ("spend", HOURS):
        out[col] = pd.to_numeric(g[col], errors="coerce").to_numpy() if col in g else np.nan
    return suppress_small_counts(out, privacy.min_count)


def _fmt(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if float(v).is_integer() or abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:,.1f}"
    text = str(v)
    return text if len(text) <= 22 else text[:21] + "…"


def _headers(columns: Sequence[str], language: str) -> list[str]:
    short = {
        "population": ("Pop.", "人口"),
        "customers": ("Cust.", "客户"),
        "spend": ("Spend\nCNY/mo", "消费\n元/月"),
        HOURS: ("Hours\n/month", "工时\n/月"),
        "hours": ("Hours\n/month", "工时\n/月"),
        "grid_type": ("Type", "类型"),
        "n_managers": ("Mgrs", "经理"),
        "n_grids": ("Grids", "网格"),
        "deviation": ("Dev.", "偏差"),
        "from_manager": ("From", "原经理"),
        "to_manager": ("To", "新经理"),
        "direction": ("In/out", "移入/出"),
    }
    fam = {f"cust_f_{k}": (en, zh) for k, en, zh in FAMILIES}
    out = []
    for c in columns:
        pair = short.get(c) or fam.get(c)
        out.append((pair[1] if language == "zh" else pair[0]) if pair else label(c, language))
    return out


# ------------------------------------------------------------------ drawing helpers


def _paths(geoms: Sequence[object]) -> list[object]:
    """matplotlib Paths of (multi)polygons (holes kept)."""
    from matplotlib.path import Path as MPath

    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        parts = getattr(geom, "geoms", [geom])
        verts: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for poly in parts:
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                c = np.full(len(xy), MPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MPath.MOVETO, MPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        if verts:
            out.append(MPath(np.concatenate(verts), np.concatenate(codes)))
    return out


def _draw(ax, geoms, **style) -> None:
    _draw_paths(ax, _paths(geoms), **style)


def _draw_paths(ax, paths, **style) -> None:
    from matplotlib.collections import PathCollection

    if not paths:
        return
    coll = PathCollection(paths, **style)
    coll.set_transform(ax.transData)
    ax.add_collection(coll)


def _extent(ax, bounds: Sequence[float], pad: float = 0.06) -> None:
    """Fit the axes to ``bounds`` (metres) keeping 1:1 scale for the axes' shape."""
    minx, miny, maxx, maxy = bounds
    w, h = max(maxx - minx, 50.0), max(maxy - miny, 50.0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    aspect = (box.height * fig_h) / (box.width * fig_w)
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if h / w > aspect:
        w = h / aspect
    else:
        h = w * aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) about a fifth of ``span_m``."""
    target = max(span_m / 5.0, 1.0)
    k = 10 ** math.floor(math.log10(target))
    return max(m * k for m in (1, 2, 5) if m * k <= target)


def _scale_bar(ax) -> None:
    """A two-part black/white bar of a round length at the lower left (map units: metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    bx, by, bh = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0), 0.008 * (y1 - y0)
    for k, face in ((0, "black"), (1, "white")):
        left = bx + k * length / 2
        ax.fill(
            [left, left + length / 2, left + length / 2, left],
            [by, by, by + bh, by + bh],
            facecolor=face,
            edgecolor="black",
            linewidth=0.6,
            zorder=20,
        )
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 2 * bh, text, ha="center", va="bottom", fontsize=8, zorder=21)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 11, "headlength": 10},
        zorder=22,
    )


def _labels(
    ax, xs, ys, texts, priority, fontsize: float = 6.5, placed: list | None = None, **style
) -> list:
    """Place labels, skipping any that would overlap one placed before (higher priority
    first, and any box already in ``placed``); returns the boxes placed so far."""
    renderer = ax.figure.canvas.get_renderer()
    placed = [] if placed is None else placed
    box = style.pop("box", True)
    order = np.argsort(-np.asarray(priority, dtype=float), kind="stable")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for i in order:
        if not (x0 <= xs[i] <= x1 and y0 <= ys[i] <= y1):
            continue
        bbox = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7}
        t = ax.text(xs[i], ys[i], texts[i], fontsize=fontsize, ha="center", va="center",
                    zorder=15, clip_on=True, bbox=bbox if box else None, **style)  # fmt: skip
        bb = t.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(bb.overlaps(p) for p in placed):
            t.remove()
        else:
            placed.append(bb)
    return placed


def _district_labels(ax, plan: Plan, placed: list) -> None:
    """District names in grey italics where they do not cover a grid label."""
    d = plan.districts
    if d is None or d.empty:
        return
    col = "name" if "name" in d.columns else "district" if "district" in d.columns else None
    if col is None:
        return
    pts = d.geometry.representative_point()
    _labels(ax, pts.x.to_numpy(), pts.y.to_numpy(), d[col].astype(str).tolist(),
            d.geometry.area.to_numpy(), fontsize=7, placed=placed, box=False,
            color="#4a5a78", fontstyle="italic", alpha=0.9)  # fmt: skip


def _text_width(text: str) -> float:
    """Width of ``text`` in ems, roughly (CJK glyphs are a full em, Latin about half)."""
    lines = str(text).split("\n")
    return max(sum(1.0 if ord(ch) >= 0x2E80 else 0.64 for ch in line) for line in lines)


def _table(ax, frame: pd.DataFrame, language: str, title: str, fontsize: float = 6.5) -> None:
    """A plain table: header shaded, numbers right-aligned, text left-aligned, every
    other row banded."""
    from matplotlib.patches import Rectangle

    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9, loc="left")
    if frame.empty:
        ax.text(0, 0.98, "–", va="top")
        return
    heads = _headers(list(frame.columns), language)
    cells = [[_fmt(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    ems = [
        max([_text_width(h), *(_text_width(r[j]) for r in cells)]) + 1.2
        for j, h in enumerate(heads)
    ]
    box = ax.get_position()
    width_pt = box.width * ax.figure.get_size_inches()[0] * 72
    size = min(fontsize, width_pt / sum(ems))
    xs = np.concatenate([[0.0], np.cumsum(ems) / sum(ems)])
    height_pt = box.height * ax.figure.get_size_inches()[1] * 72
    row_h = min(size * 1.9 / height_pt, 0.95 / (len(cells) + 2))
    head_h = row_h * 1.8
    ax.add_patch(Rectangle((0, 1 - head_h), 1, head_h, facecolor="#dde3ee", edgecolor="none"))
    for j, h in enumerate(heads):
        ax.text((xs[j] + xs[j + 1]) / 2, 1 - head_h / 2, h, fontsize=size, ha="center",
                va="center", linespacing=1.0)  # fmt: skip
    for i in range(1, len(cells), 2):
        top = 1 - head_h - i * row_h
        ax.add_patch(Rectangle((0, top - row_h), 1, row_h, facecolor="#f3f5f9", edgecolor="none"))
    # Each column is one multi-line text (a text per cell costs ~5 ms in a PDF):
    # matplotlib gives every line, CJK or not, a slot of font size x linespacing, so
    # the line pitch equals the row height exactly.
    spacing = row_h * height_pt / size
    text_top = 1 - head_h - (row_h - 0.95 * size / height_pt) / 2
    pad = 0.35 * size / width_pt
    for j in range(len(heads)):
        x, ha = (xs[j + 1] - pad, "right") if numeric[j] else (xs[j] + pad, "left")
        ax.text(x, text_top, "\n".join(r[j] for r in cells), fontsize=size, ha=ha, va="top",
                linespacing=spacing, multialignment=ha)  # fmt: skip
    bottom = 1 - head_h - len(cells) * row_h
    ax.plot([0, 1, 1, 0, 0], [bottom, bottom, 1, 1, bottom], color="#888888", linewidth=0.5)
    ax.plot([0, 1], [1 - head_h] * 2, color="#888888", linewidth=0.5)


def _legend(
    ax, entries: Sequence[tuple[str, str]], title: str, lines: Sequence[tuple[str, dict]] = ()
) -> None:
    """Colour patches (at most 16 listed) and line styles (boundaries) in the lower right."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list = [Patch(facecolor=c, edgecolor="#333333", label=t) for c, t in entries[:16]]
    if len(entries) > 16:
        handles.append(Patch(facecolor="white", edgecolor="white", label=f"+{len(entries) - 16}"))
    handles += [Line2D([], [], label=text, **style) for text, style in lines]
    if not handles:
        return
    ncols = 1 if len(handles) <= 8 else 2
    legend = ax.legend(handles=handles, title=title, loc="lower right", fontsize=6.5,
                       title_fontsize=7, framealpha=0.9, ncols=ncols)  # fmt: skip
    legend.set_zorder(30)  # above the map's labels


# ------------------------------------------------------------------ the book


@dataclass(frozen=True, eq=False)
class _Context:
    plan: Plan
    language: str
    table: pd.DataFrame
    colours: dict[str, str]
    printed: str
    grid_paths: list[object]  # one matplotlib Path per grid row (drawn often: built once)
    grid_bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy in metres
    districts: np.ndarray  # district geometries (metres), drawn clipped to each page
    org: OrgView | None = None  # the plan's organisation (None: the book of today)
    units: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)  # level → outlines
    areas: gpd.GeoDataFrame | None = None  # the plan's areas (with an organisation: once)


def _context(plan: Plan, language: str, privacy: PrivacySettings) -> _Context:
    colours = manager_colours(plan)  # the plan's one palette, as in the app and the maps
    geoms = plan.grids.geometry.values
    districts = plan.districts.geometry.values if plan.districts is not None else []
    org = org_view(plan)
    units = {lv: unit_outlines(plan, lv) for lv in org.levels} if org is not None else {}
    return _Context(
        plan,
        language,
        book_grid_table(plan, privacy),
        colours,
        date.today().isoformat(),
        [(_paths([g]) or [None])[0] for g in geoms],
        np.asarray(plan.grids.geometry.bounds, dtype=float).reshape(-1, 4),
        np.asarray(districts, dtype=object),
        org,
        units,
        areas(plan) if org is not None else None,
    )


def _new_page(ctx: _Context, title: str, map_page: bool = True):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=PAGE_SIZE)
    FigureCanvasAgg(fig)
    fig.text(0.03, 0.955, title, fontsize=15, fontweight="bold", va="bottom")
    sub = (
        f"{label('plan', ctx.language)}: {ctx.plan.name}    "
        f"{label('date', ctx.language)}: {ctx.printed}"
    )
    fig.text(0.03, 0.93, sub, fontsize=9, color="#444444", va="bottom")
    if not map_page:
        return fig, None, fig.add_axes((0.03, 0.05, 0.94, 0.85))
    ax_map = fig.add_axes((0.02, 0.04, 0.55, 0.87))
    ax_tab = fig.add_axes((0.60, 0.04, 0.38, 0.87))
    return fig, ax_map, ax_tab


def _page_districts(ctx: _Context, extent: tuple[float, float, float, float]) -> list[object]:
    """District outlines cut to the page and simplified to a fraction of a printed
    point (full-detail boundaries on every page made the PDF ten times larger)."""
    import shapely

    if len(ctx.districts) == 0:
        return []
    x0, y0, x1, y1 = extent
    tolerance = (x1 - x0) / 3000.0  # metres; ~0.1 mm on the printed map
    cut = shapely.clip_by_rect(ctx.districts, x0, y0, x1, y1)
    return _paths(shapely.simplify(cut, tolerance, preserve_topology=True))


def _basemap(ax, ctx: _Context, focus_ids: set[str], colours: dict[str, str] | None = None) -> None:
    """District fill and outlines, other grids in grey, the focus grids in their
    manager's colour; only what lies inside the axes' extent is drawn."""
    g = ctx.plan.grids
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    b = ctx.grid_bounds
    visible = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
    inside = g["grid_id"].astype(str).isin(focus_ids).to_numpy()
    man = g["manager"].fillna("").astype(str).to_numpy()
    paths = ctx.grid_paths
    district_paths = _page_districts(ctx, (x0, y0, x1, y1))
    _draw_paths(ax, district_paths, facecolor="#fafafa", edgecolor="none", zorder=1)
    rest = np.flatnonzero(visible & ~inside)
    _draw_paths(ax, [paths[i] for i in rest if paths[i] is not None], facecolor=CONTEXT_FILL,
                edgecolor="#cccccc", linewidth=0.3, zorder=2)  # fmt: skip
    focus = [i for i in np.flatnonzero(inside) if paths[i] is not None]
    _draw_paths(ax, [paths[i] for i in focus],
                facecolor=[(colours or ctx.colours).get(man[i], "#ffffff") for i in focus],
                edgecolor="#333333", linewidth=0.5, alpha=0.85, zorder=3)  # fmt: skip
    _draw_paths(ax, district_paths, facecolor="none", edgecolor=DISTRICT_EDGE,
                linewidth=1.0, linestyle="--", zorder=4)  # fmt: skip


def _boundary_lines(ctx: _Context, areas: bool, levels: bool = False) -> list[tuple[str, dict]]:
    out = []
    if levels and ctx.org is not None:
        style = BOOK_OUTLINES
        for lv, width in zip(ctx.org.levels, style.weights(len(ctx.org.levels)), strict=True):
            out.append((ctx.org.labels[lv], {"color": style.colour, "linewidth": width,
                                             "alpha": style.opacity}))  # fmt: skip
    if areas:
        out.append((label("areas", ctx.language), {"color": "black", "linewidth": 1.6}))
    if ctx.plan.districts is not None and len(ctx.plan.districts):
        out.append((label("districts", ctx.language),
                    {"color": DISTRICT_EDGE, "linewidth": 1.0, "linestyle": "--"}))  # fmt: skip
    return out


def _level_lines(ax, ctx: _Context) -> None:
    """Every organisation level's unit outlines inside the axes (top level thickest,
    :data:`BOOK_OUTLINES`), cut to the page and simplified like the districts (drawn
    over the district lines, under the areas')."""
    import shapely

    if ctx.org is None:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    tolerance = (x1 - x0) / 3000.0  # metres; ~0.1 mm on the printed map
    style = BOOK_OUTLINES
    for k, (lv, width) in enumerate(
        zip(ctx.org.levels, style.weights(len(ctx.org.levels)), strict=True)
    ):
        geoms = ctx.units[lv].geometry.values
        if len(geoms) == 0:
            continue
        cut = shapely.simplify(shapely.clip_by_rect(geoms, x0, y0, x1, y1), tolerance)
        # under the areas' black lines (zorder 5), top level lowest: on a shared
        # boundary each line shows as a band around the finer one
        _draw(ax, cut, facecolor="none", edgecolor=style.colour, linewidth=width,
              alpha=style.opacity, zorder=4.5 + 0.1 * k)  # fmt: skip


def _grid_rows(ctx: _Context, ids: set[str], with_manager: bool) -> pd.DataFrame:
    t = ctx.table[ctx.table["grid_id"].isin(ids)]
    cols = ["grid_id", "grid_type", *(["manager"] if with_manager else []), "population",
            "customers", *[f"cust_f_{f}" for f, _, _ in FAMILIES], "spend", HOURS]  # fmt: skip
    return t[[c for c in cols if c in t.columns]].sort_values("grid_id")


def _page_colours(ctx: _Context, managers: Sequence[str]) -> dict[str, str]:
    """Colours of the page's managers. An area's team (2 to ``len(MUTED)`` managers):
    all different, so each manager of the area stands out; a manager's own page, or a
    team too big for that: the plan's one palette (:func:`manager_colours`, the colours
    of the app, the HTML map and the KML; neighbours differ)."""
    from gridplan.maps import MUTED

    if 1 < len(managers) <= len(MUTED):
        return {m: MUTED[i] for i, m in enumerate(managers)}
    return dict(ctx.colours)


def _map_page(
    ctx: _Context, title: str, managers: Sequence[str], kind: str, stem: str
) -> Iterator[tuple[BookPage, object]]:
    plan = ctx.plan
    g = plan.grids
    ids = set(g.loc[g["manager"].astype(str).isin(set(managers)), "grid_id"].astype(str))
    rows = _grid_rows(ctx, ids, with_manager=kind == "area")
    fig, ax, ax_tab = _new_page(ctx, title)
    focus = g[g["grid_id"].astype(str).isin(ids)]
    _extent(ax, focus.total_bounds if len(focus) else g.total_bounds)
    colours = _page_colours(ctx, managers)
    _basemap(ax, ctx, ids, colours)
    pts = focus.geometry.representative_point()
    ids_text = focus["grid_id"].astype(str).tolist()
    sizes = focus.geometry.area.to_numpy()
    placed = _labels(ax, pts.x.to_numpy(), pts.y.to_numpy(), ids_text, sizes)
    _district_labels(ax, plan, placed)
    _scale_bar(ax)
    _north_arrow(ax)
    entries = [(colours.get(m, "#ffffff"), m) for m in managers]
    _legend(ax, entries, label("manager", ctx.language), _boundary_lines(ctx, areas=False))
    head = rows.iloc[:TABLE_ROWS]
    _table(ax_tab, head, ctx.language, f"{label('grids', ctx.language)} ({len(rows)})")
    yield BookPage(stem, kind, title), fig
    yield from _continued(ctx, title, rows.iloc[TABLE_ROWS:], stem)


def _continued(ctx: _Context, title: str, rest: pd.DataFrame, stem: str, rows: int = 44):
    for k, start in enumerate(range(0, len(rest), rows), start=2):
        part = rest.iloc[start : start + rows]
        t = f"{title} ({k})"
        fig, _, ax_tab = _new_page(ctx, t, map_page=False)
        _table(ax_tab, part, ctx.language, label("grids", ctx.language))
        yield BookPage(f"{stem}-{k}", "table", t), fig


def _overview(ctx: _Context) -> Iterator[tuple[BookPage, object]]:
    plan = ctx.plan
    title = f"{label('overview', ctx.language)} · {plan.meta.get('city', plan.name)}"
    fig, ax, ax_tab = _new_page(ctx, title)
    _extent(ax, plan.grids.total_bounds)
    _basemap(ax, ctx, set(plan.grids["grid_id"].astype(str)))
    ar = areas(plan)
    if len(ar):
        _draw(ax, ar.geometry.values, facecolor="none", edgecolor="black", linewidth=1.6, zorder=5)
    _level_lines(ax, ctx)
    from gridplan.plan.model import territories

    terr = territories(plan)
    pts = terr.geometry.representative_point()
    placed = _labels(ax, pts.x.to_numpy(), pts.y.to_numpy(),
                     terr["manager"].astype(str).tolist(), terr.geometry.area.to_numpy(),
                     fontsize=6)  # fmt: skip
    _district_labels(ax, plan, placed)
    _scale_bar(ax)
    _north_arrow(ax)
    from gridplan.maps import MUTED

    entries = [(MUTED[0], f"{len(terr)} {label('territories', ctx.language)}")]
    if (plan.grids["manager"].fillna("").astype(str) == "").any():
        entries.append((CONTEXT_FILL, label("unassigned", ctx.language)))
    lines = _boundary_lines(ctx, areas=len(ar) > 0, levels=True)
    _legend(ax, entries, label("territories", ctx.language), lines)
    if len(ar):
        tab = _area_table(ctx, ar)
        caption = label("areas", ctx.language)
    else:
        tab = manager_table(plan)[["manager", "n_grids", "population", "hours", "deviation"]]
        caption = label("territories", ctx.language)
    _table(ax_tab, tab.iloc[:TABLE_ROWS], ctx.language, f"{caption} ({len(tab)})")
    yield BookPage("overview", "overview", title), fig
    yield from _continued(ctx, title, tab.iloc[TABLE_ROWS:], "overview")


def _area_table(ctx: _Context, ar: pd.DataFrame) -> pd.DataFrame:
    """The areas' table of the overview and the section pages; with an organisation
    also each area's unit (headed by the area level's label) and area manager, the areas
    in book order (by unit, then area)."""
    tab = pd.DataFrame(ar.drop(columns="geometry"))
    cols = ["area", "n_managers", "n_grids", "population", "customers", "hours"]
    org = ctx.org
    if org is not None and org.area_level and "unit" in tab.columns:
        lv = org.area_level
        head = org.labels[lv] if org.labels[lv] not in tab.columns else f"{org.labels[lv]} "
        tab[head] = tab["unit"].astype(str).map(lambda c: org.names[lv].get(c, c))
        cols[1:1] = [head, "area_manager"]
        order = {a: i for i, (a, _) in enumerate(_flat(_sections(ctx, groups_of(ctx.plan))))}
        tab = tab.iloc[np.argsort([order.get(a, len(order)) for a in tab["area"]], kind="stable")]
    tab = tab[[c for c in cols if c in tab.columns]]
    return suppress_small_counts(tab, 0).drop(columns="suppressed", errors="ignore")


def groups_of(plan: Plan) -> Groups:
    """``(area, managers)`` of the plan in the team's order (:func:`groups`)."""
    return groups(plan, "area")


def _flat(sections: list[tuple[str, Groups]]) -> Groups:
    return [grp for _, grps in sections for grp in grps]


def _manager_units(ctx: _Context) -> dict[str, str]:
    """Manager → code of his area-level unit: the team's ``unit`` column, else the unit
    holding most of his grids."""
    plan, lv = ctx.plan, ctx.org.area_level if ctx.org else None
    if lv is None:
        return {}
    team = plan.managers
    if "unit" in team.columns and (team["unit"].fillna("").astype(str) != "").any():
        return dict(zip(team["manager"].astype(str), team["unit"].fillna("").astype(str),
                        strict=True))  # fmt: skip
    g = plan.grids
    col = f"unit_{lv}"
    if col not in g.columns:
        return {}
    pairs = pd.DataFrame({"m": g["manager"].fillna("").astype(str), "u": g[col].astype(str)})
    return pairs.groupby("m")["u"].agg(lambda s: s.mode().iloc[0]).to_dict()


def _sections(ctx: _Context, chosen: Groups) -> list[tuple[str, Groups]]:
    """``chosen`` area groups in sections ``(unit code, groups)``: one per unit of the
    area level (the units' order; areas in natural name order), then ``("", rest)``:
    areas without a unit and managers without an area. Without an organisation: one
    section ``("", chosen)`` in the team's order (the book of today)."""
    lv = ctx.org.area_level if ctx.org is not None else None
    if lv is None:
        return [("", chosen)]
    unit_of = _manager_units(ctx)
    by_unit: dict[str, Groups] = {}
    rest: Groups = []
    for area, managers in chosen:
        code = unit_of.get(managers[0], "") if area else ""
        (by_unit.setdefault(code, []) if code else rest).append((area, managers))
    known = ordered_codes(ctx.plan, lv)
    codes = [c for c in known if c in by_unit] + sorted(set(by_unit) - set(known))
    out = [(c, sorted(by_unit[c], key=lambda grp: natural_key(grp[0]))) for c in codes]
    return out + ([("", rest)] if rest else [])


def _section_page(
    ctx: _Context, code: str, grps: Groups, stem: str
) -> Iterator[tuple[BookPage, object]]:
    """A section's title page: the area-level unit ``code`` with its areas filled (one
    colour each), outlined and named with their area manager, every level's outlines,
    and the table of its areas."""
    org, plan, tr = ctx.org, ctx.plan, lambda k: label(k, ctx.language)
    lv = org.area_level
    name = org.names[lv].get(code, code)
    title = name if org.labels[lv] in name else f"{org.labels[lv]} {name}"
    names = [a for a, _ in grps]
    ar = ctx.areas if ctx.areas is not None else areas(plan)
    ar = ar[ar["area"].isin(set(names))]
    ar = ar.iloc[np.argsort([names.index(a) for a in ar["area"]], kind="stable")]
    fig, ax, ax_tab = _new_page(ctx, title)
    outline = ctx.units[lv]
    outline = outline[outline["code"] == code]
    ids = set(plan.grids.loc[plan.grids["manager"].astype(str).isin(
        {m for _, ms in grps for m in ms}), "grid_id"].astype(str))  # fmt: skip
    focus = plan.grids[plan.grids["grid_id"].astype(str).isin(ids)]
    bounds = outline.total_bounds if len(outline) else focus.total_bounds
    _extent(ax, bounds if len(outline) or len(focus) else plan.grids.total_bounds)
    from gridplan.maps import MUTED

    if len(names) <= len(MUTED):
        area_colour = {a: MUTED[i] for i, a in enumerate(names)}
    else:
        area_colour = group_colours(ar, "area")
    colours = {m: area_colour.get(a, "#ffffff") for a, ms in grps for m in ms}
    _basemap(ax, ctx, ids, colours)
    _draw(ax, ar.geometry.values, facecolor="none", edgecolor="black", linewidth=1.6, zorder=5)
    _level_lines(ax, ctx)
    pts = ar.geometry.representative_point()
    lead = ar["area_manager"].astype(str) if "area_manager" in ar.columns else None
    texts = [a if lead is None or not lead.iloc[i] else f"{a}\n{tr('area_manager')} {lead.iloc[i]}"
             for i, a in enumerate(ar["area"].astype(str))]  # fmt: skip
    placed = _labels(ax, pts.x.to_numpy(), pts.y.to_numpy(), texts, ar.geometry.area.to_numpy(),
                     fontsize=8)  # fmt: skip
    _district_labels(ax, plan, placed)
    _scale_bar(ax)
    _north_arrow(ax)
    entries = [(area_colour.get(a, "#ffffff"), a) for a in names]
    _legend(ax, entries, tr("areas"), _boundary_lines(ctx, areas=True, levels=True))
    tab = _area_table(ctx, ar)
    _table(ax_tab, tab.iloc[:TABLE_ROWS], ctx.language, f"{tr('areas')} ({len(tab)})")
    yield BookPage(stem, "unit", title, code), fig
    yield from _continued(ctx, title, tab.iloc[TABLE_ROWS:], stem)


def _handover_pages(
    ctx: _Context, moves: HandOver, managers: Sequence[str]
) -> Iterator[tuple[BookPage, object]]:
    g = moves.grids
    g = g[g["manager"].isin(set(managers))]
    title = label("handover", ctx.language)
    cols = ["manager", "direction", "grid_id", "from_manager", "to_manager", "population",
            "customers", "spend", HOURS]  # fmt: skip
    table = g[[c for c in cols if c in g.columns]].copy()
    table["direction"] = table["direction"].map(
        {"in": label("moves_in", ctx.language), "out": label("moves_out", ctx.language)}
    )
    summary = moves.summary
    summary = summary[summary["manager"].isin(set(managers))]
    n_pages = max(1, math.ceil(len(table) / HANDOVER_ROWS))
    for k in range(n_pages):
        part = table.iloc[k * HANDOVER_ROWS : (k + 1) * HANDOVER_ROWS]
        t = title if n_pages == 1 else f"{title} ({k + 1}/{n_pages})"
        fig, _, ax = _new_page(ctx, t, map_page=False)
        cap = f"{label('grids', ctx.language)}: {len(table)}"
        if not moves.customers_withheld:
            cap += (
                f" · {label('customers', ctx.language)} {label('moves_in', ctx.language)}/"
                f"{label('moves_out', ctx.language)}: "
                f"{int(summary['customers_in'].sum())}/{int(summary['customers_out'].sum())}"
            )
        _table(ax, part, ctx.language, cap)
        yield BookPage("handover" if k == 0 else f"handover-{k + 1}", "handover", t), fig


def book_pages(
    plan: Plan,
    *,
    scope: tuple[str, str] | None = None,
    previous: Plan | None = None,
    language: str = "en",
    privacy: PrivacySettings | None = None,
) -> Iterator[tuple[BookPage, object]]:
    """Yield ``(page, figure)`` of the book, each figure to be saved by the caller
    inside ``matplotlib.rc_context(book_style())``. ``scope``: ``None`` (overview,
    every area with its managers, managers without area), ``("area", name)``,
    ``("manager", name)`` or, with an organisation, ``("unit", code)`` (one section).

    With an organisation (a plan with ``org_levels`` and an area level) the whole book
    has a section per unit of the area level, in the units' order: the unit's title
    page (:func:`_section_page`, kind ``unit``) then its areas (by name) with their
    managers; areas without a unit and managers without an area come last. The
    overview then shows every level's outlines. Every page of a section carries the
    unit's code as ``BookPage.section``."""
    from gridplan.plan.handover import handover

    check_language(language)
    ctx = _context(plan, language, privacy or NO_PRIVACY)
    area_groups = groups_of(plan)
    if scope is None:
        yield from _overview(ctx)
        chosen = area_groups
    elif scope[0] == "area":
        chosen = [(a, ms) for a, ms in area_groups if a == scope[1]]
    elif scope[0] == "manager":
        chosen = [("", [scope[1]])]
    elif scope[0] == "unit" and ctx.org is not None and ctx.org.area_level:
        chosen = area_groups
    else:
        raise ValueError(
            "scope must be None, ('area', name), ('manager', name) or, with an "
            f"organisation, ('unit', code): {scope!r}"
        )
    sections = [("", chosen)]
    if scope is None or scope[0] == "unit":
        sections = _sections(ctx, chosen)
    if scope is not None and scope[0] == "unit":
        sections = [(c, grps) for c, grps in sections if c == scope[1]]
    stems = iter(unique_names([f"area-{a}" for a, _ in _flat(sections)], "area"))
    unit_stems = iter(unique_names([f"unit-{c}" for c, _ in sections], "unit"))
    everyone: list[str] = []
    for code, grps in sections:
        stem = next(unit_stems)
        pages = _section_pages(ctx, code, grps, stem, stems, scope)
        yield from ((replace(page, section=code), fig) for page, fig in pages)
        everyone += [m for _, ms in grps for m in ms]
    if previous is not None:
        moves = handover(previous, plan).private(privacy or NO_PRIVACY)
        yield from _handover_pages(ctx, moves, everyone)


def _section_pages(
    ctx: _Context,
    code: str,
    grps: Groups,
    unit_stem: str,
    stems: Iterator[str],
    scope: tuple[str, str] | None,
) -> Iterator[tuple[BookPage, object]]:
    """A section's pages: its title page (a unit's section only), then per area its
    page (in the whole book, a unit's book and an area's book) and its managers' pages."""
    tr = lambda k: label(k, ctx.language)  # noqa: E731
    if code:
        yield from _section_page(ctx, code, grps, unit_stem)
    area_pages = scope is None or scope[0] in ("area", "unit")
    area_of = area_of_manager(ctx.plan)
    for area, managers in grps:
        stem = next(stems)
        if area_pages and (area or (scope is not None and scope[0] == "area")):
            name = area or tr("no_area")
            yield from _map_page(ctx, f"{tr('area')} {name}", managers, "area", stem)
        man_stems = unique_names([f"manager-{m}" for m in managers], "manager")
        for m, mstem in zip(managers, man_stems, strict=True):
            a = area_of.get(m, "")
            title = f"{tr('manager')} {m}" + (f" · {tr('area')} {a}" if a else "")
            yield from _map_page(ctx, title, [m], "manager", mstem)


def book_style() -> dict[str, object]:
    """matplotlib rc settings of the book (CJK fallback font, glyphs embedded as Type 3)."""
    return {
        "font.family": font_families(),
        "pdf.fonttype": 3,  # Type 3 subsets of the CJK collection: 5x faster than Type 42
        "axes.unicode_minus": False,
        "svg.fonttype": "none",
    }


def write_pdf(
    pages: Iterator[tuple[BookPage, object]],
    target: Path,
    on_page: Callable[[BookPage], None] | None = None,
) -> list[BookPage]:
    """Save every page into one PDF (``target`` a temporary path); ``on_page`` is
    called after each page (progress)."""
    from matplotlib.backends.backend_pdf import PdfPages

    done = []
    with PdfPages(target, metadata={"Creator": "gridplan"}) as pdf:
        for page, fig in pages:
            pdf.savefig(fig)
            done.append(page)
            if on_page is not None:
                on_page(page)
    return done


def render_png(fig: object, target: Path, dpi: int = 110) -> None:
    """Save one page as PNG."""
    fig.savefig(target, dpi=dpi, format="png")
