"""Charts of an evaluation as PNG bytes (matplotlib, no display needed): map, heat map, times, links."""

import io
import math
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Any

from matplotlib import colormaps, font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from hwarang.exercise.findings import link_label
from hwarang.exercise.labels import TEXT
from hwarang.exercise.scoring import Evaluation
from hwarang.geo.regions import RegionCatalog

KOREAN_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "UnDotum")
"""Font families tried, in order, for Korean labels (fonts-nanum provides the first)."""
HEATMAP_ITEMS = ("detect", "acknowledge", "share", "task", "resolve", "judgement")
_CMAP = colormaps["RdYlGn"]
_NORM = Normalize(vmin=0.0, vmax=100.0)
_DPI = 110
_ZONE_BADGE = {"boxstyle": "circle,pad=0.2", "facecolor": "white", "alpha": 0.8, "linewidth": 0.5}


@cache
def korean_font() -> str | None:
    """The first installed font family of :data:`KOREAN_FONTS` (None: Korean shows as boxes)."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def _rc() -> dict[Any, Any]:
    family = korean_font()
    fonts = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    return {"font.family": fonts, "axes.unicode_minus": False}


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]


def _score_map(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> bytes:
    """The 17 sido coloured by score, with their zone numbers."""
    figure = _figure(6.0, 6.4)
    ax = figure.add_subplot()
    zone_label: dict[int, tuple[float, Point]] = {}
    table = catalog.zones()
    for sido in catalog.sidos():
        score = evaluation.score("sido", sido.code)
        colour = "#d9d9d9" if score is None else _CMAP(_NORM(score.score))
        geometry = catalog.boundary(sido.code, tolerance_deg=0.01)
        for polygon in _polygons(geometry):
            if polygon.area < 1e-4:
                continue
            xs, ys = polygon.exterior.xy
            ax.fill(xs, ys, facecolor=colour, edgecolor="#555555", linewidth=0.4)
        zone = table.zone_for_sido(sido.code)
        largest = max(_polygons(geometry), key=lambda p: p.area, default=None)
        if zone is not None and largest is not None and largest.area > zone_label.get(zone.id, (0.0,))[0]:
            zone_label[zone.id] = (largest.area, polylabel(largest, tolerance=0.01))
    for zone_id, (_area, point) in zone_label.items():
        ax.text(point.x, point.y, str(zone_id), ha="center", va="center", fontsize=9, bbox=_ZONE_BADGE)
    ax.set_aspect(1.0 / math.cos(math.radians(36.0)))
    ax.set_axis_off()
    figure.colorbar(ScalarMappable(norm=_NORM, cmap=_CMAP), ax=ax, shrink=0.6, label=TEXT[lang]["score"])
    ax.set_title(TEXT[lang]["map"])
    return _png(figure)


def _heatmap(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> bytes:
    """Sido (grouped by zone) against the measured checklist items and the overall score."""
    table = catalog.zones()
    rows: list[tuple[str, list[float | None]]] = []
    titles = {item.id: item.title(lang) for item in evaluation.checklist}
    columns = [c for c in HEATMAP_ITEMS if c in titles]
    for zone in table.zones:
        for code in zone.sido_codes:
            score = evaluation.score("sido", code)
            values: list[float | None] = [None] * (len(columns) + 1)
            if score is not None:
                values = [score.items[c].score if c in score.items else None for c in columns] + [score.score]
            rows.append((f"{zone.id}. {catalog.get(code).name}", values))
    figure = _figure(7.2, 0.33 * len(rows) + 1.6)
    ax = figure.add_subplot()
    grid = [[math.nan if v is None else v for v in values] for _, values in rows]
    ax.imshow(grid, cmap=_CMAP, norm=_NORM, aspect="auto")
    for i, (_, values) in enumerate(rows):
        for j, value in enumerate(values):
            if value is not None:
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=7)
    ax.set_xticks(
        range(len(columns) + 1),
        [titles[c] for c in columns] + [TEXT[lang]["overall"]],
        fontsize=7,
        rotation=30,
    )
    ax.set_title(TEXT[lang]["heatmap"])
    return _png(figure)


def _response_times(evaluation: Evaluation, lang: str) -> bytes:
    """Box plots per zone: minutes to acknowledge and to the first tasking."""
    by_zone_ack: dict[int, list[float]] = defaultdict(list)
    by_zone_task: dict[int, list[float]] = defaultdict(list)
    for result in evaluation.measurement.injects:
        if result.acknowledged_s is not None:
            by_zone_ack[result.zone_id].append(result.acknowledged_s / 60.0)
        tasked = [a.tasked_s for a in result.agencies if a.tasked_s is not None]
        if tasked:
            by_zone_task[result.zone_id].append(min(tasked) / 60.0)
    zones = sorted(set(by_zone_ack) | set(by_zone_task))
    figure = _figure(7.2, 5.0)
    for row, (data, label) in enumerate(
        ((by_zone_ack, TEXT[lang]["acknowledge_time"]), (by_zone_task, TEXT[lang]["task_time"]))
    ):
        ax = figure.add_subplot(2, 1, row + 1)
        _boxes(ax, [data.get(z, []) for z in zones], [str(z) for z in zones])
        ax.set_ylabel(label, fontsize=8)
        ax.set_xlabel(TEXT[lang]["zone"], fontsize=8)
    figure.suptitle(TEXT[lang]["distribution"])
    return _png(figure)


def _boxes(ax: Axes, data: Sequence[Sequence[float]], labels: Sequence[str]) -> None:
    present = [list(values) if values else [math.nan] for values in data]
    ax.boxplot(present, tick_labels=list(labels), showfliers=True, flierprops={"markersize": 2})
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=7)


def _chain_links(evaluation: Evaluation, lang: str) -> bytes:
    """Median and 90th percentile minutes of each link of the response chain."""
    links = list(reversed(evaluation.links))
    figure = _figure(7.2, 0.45 * max(len(links), 1) + 1.2)
    ax = figure.add_subplot()
    names = [link_label(link.link, lang) for link in links]
    ax.barh(names, [link.p90_s / 60.0 for link in links], color="#f4a582", label=TEXT[lang]["p90"])
    ax.barh(names, [link.median_s / 60.0 for link in links], color="#b2182b", label=TEXT[lang]["median"])
    ax.set_xlabel(TEXT[lang]["minutes"], fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    ax.set_title(TEXT[lang]["links"])
    return _png(figure)


def _score_distribution(evaluation: Evaluation, lang: str) -> bytes:
    """Histogram of the local governments' scores."""
    scores = [s.score for s in evaluation.scores.get("local_government", [])]
    figure = _figure(7.2, 2.6)
    ax = figure.add_subplot()
    ax.hist(scores, bins=list(range(0, 105, 5)), color="#4393c3", edgecolor="white")
    ax.set_xlabel(TEXT[lang]["score"], fontsize=8)
    ax.set_ylabel(TEXT[lang]["count"], fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(TEXT[lang]["local_government_scores"])
    return _png(figure)


def score_map(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> bytes:
    """The 17 sido coloured by score, with their zone numbers."""
    with rc_context(_rc()):
        return _score_map(evaluation, catalog, lang)


def heatmap(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> bytes:
    """Sido (grouped by zone) against the measured checklist items and the overall score."""
    with rc_context(_rc()):
        return _heatmap(evaluation, catalog, lang)


def response_times(evaluation: Evaluation, lang: str) -> bytes:
    """Box plots per zone: minutes to acknowledge and to the first tasking."""
    with rc_context(_rc()):
        return _response_times(evaluation, lang)


def chain_links(evaluation: Evaluation, lang: str) -> bytes:
    """Median and 90th percentile minutes of each link of the response chain."""
    with rc_context(_rc()):
        return _chain_links(evaluation, lang)


def score_distribution(evaluation: Evaluation, lang: str) -> bytes:
    """Histogram of the local governments' scores."""
    with rc_context(_rc()):
        return _score_distribution(evaluation, lang)
