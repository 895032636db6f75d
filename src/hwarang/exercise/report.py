"""The evaluation report: HTML (Jinja2) with charts (matplotlib), and PDF (WeasyPrint), Korean and English."""

import base64
import logging
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hwarang.exercise import charts
from hwarang.exercise.checklist import Level
from hwarang.exercise.findings import duration, link_label
from hwarang.exercise.labels import LANGUAGES, TEXT, threat_label
from hwarang.exercise.measurement import InjectResult
from hwarang.exercise.scoring import Evaluation, SubjectScore
from hwarang.geo.errors import GeoError
from hwarang.geo.regions import RegionCatalog

logger = logging.getLogger(__name__)

KST = timezone(timedelta(hours=9), "KST")
_LEVEL_TEXT = {
    "zone": "zones",
    "sido": "sidos",
    "local_government": "local_governments",
    "agency": "agencies",
}


class ReportError(Exception):
    """The report cannot be written (WeasyPrint missing, an unwritable folder)."""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("hwarang.exercise", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _namer(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> Callable[[str, str | None], str]:
    zones = {str(zone.id): zone for zone in catalog.zones().zones}

    def name(level: str, code: str | None) -> str:
        if code is None:
            return "-"
        if level == "zone" and code in zones:
            zone = zones[code]
            return f"{zone.id}. {zone.name if lang == 'ko' else zone.name_en}"
        if level == "agency":
            agency = evaluation.measurement.agencies.get(code)
            return code if agency is None else f"{agency.name} ({code})"
        try:
            region = catalog.get(code)
        except GeoError:
            return code
        if region.parent_code is not None and level == "local_government":
            return f"{catalog.get(region.parent_code).name} {region.name}"
        return region.name

    return name


def _summary(evaluation: Evaluation) -> dict[str, int]:
    injects = evaluation.measurement.injects
    return {
        "injects": len(injects),
        "detected": sum(not r.missed for r in injects),
        "missed": sum(r.missed for r in injects),
        "ack_on_time": sum(
            r.acknowledged_s is not None and r.acknowledged_s <= r.expected.acknowledge_within_s
            for r in injects
        ),
        "late": sum(bool(r.late) for r in injects),
        "dismissed": sum(r.dismissed for r in injects),
        "false_alarms": len(evaluation.measurement.false_alarms),
        "escalations": sum(r.escalations for r in injects),
        "zones": len({r.zone_id for r in injects}),
    }


def _threat_rows(evaluation: Evaluation, lang: str) -> list[dict[str, Any]]:
    by_threat: dict[str, list[InjectResult]] = {}
    for result in evaluation.measurement.injects:
        by_threat.setdefault(result.threat, []).append(result)
    rows = []
    for threat, results in sorted(by_threat.items()):
        tasked = [
            min((a.tasked_s for a in r.agencies if a.tasked_s is not None), default=None) for r in results
        ]
        rows.append(
            {
                "threat": threat_label(threat, lang),
                "injects": len(results),
                "missed": sum(r.missed for r in results),
                "late": sum(bool(r.late) for r in results),
                "ack": _median([r.acknowledged_s for r in results]),
                "task": _median(tasked),
            }
        )
    return rows


def _first_tasking(result: InjectResult) -> float | None:
    return min((a.tasked_s for a in result.agencies if a.tasked_s is not None), default=None)


def _median(values: list[float | None]) -> float | None:
    present = sorted(v for v in values if v is not None)
    return statistics.median(present) if present else None


def chart_images(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> dict[str, str]:
    """Every chart of the report as a PNG data URI."""
    return {
        "map": _data_uri(charts.score_map(evaluation, catalog, lang)),
        "heatmap": _data_uri(charts.heatmap(evaluation, catalog, lang)),
        "times": _data_uri(charts.response_times(evaluation, lang)),
        "links": _data_uri(charts.chain_links(evaluation, lang)),
        "distribution": _data_uri(charts.score_distribution(evaluation, lang)),
    }


def render_html(evaluation: Evaluation, catalog: RegionCatalog, lang: str) -> str:
    """The report as one self-contained HTML page (charts embedded) in ``lang`` ('ko' or 'en')."""
    if lang not in LANGUAGES:
        raise ReportError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)}")
    css = (files("hwarang.exercise") / "templates" / "report.css").read_text(encoding="utf-8")
    titles = {item.id: item.title(lang) for item in evaluation.checklist}

    def best_first(level: Level) -> list[SubjectScore]:
        return sorted(evaluation.scores.get(level, []), key=lambda s: (-s.score, s.code))

    def when(value: datetime) -> str:
        return value.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")

    context: dict[str, Any] = {
        "ev": evaluation,
        "m": evaluation.measurement,
        "lang": lang,
        "t": TEXT[lang],
        "css": css,
        "charts": chart_images(evaluation, catalog, lang),
        "summary": _summary(evaluation),
        "threats": _threat_rows(evaluation, lang),
        "name": _namer(evaluation, catalog, lang),
        "dur": lambda seconds: duration(seconds, lang),
        "link": lambda name: link_label(name, lang),
        "when": when,
        "best_first": best_first,
        "item_title": lambda item_id: titles.get(item_id, item_id),
        "level_name": lambda level: TEXT[lang].get(_LEVEL_TEXT.get(str(level), str(level)), str(level)),
    }
    return _environment().get_template("report.html.j2").render(context)


def html_to_pdf(html: str) -> bytes:
    """Lay the HTML out as A4 PDF pages with WeasyPrint."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ReportError(
            f"PDF reports need WeasyPrint and its system libraries (pango): {exc}; "
            "install with pip install weasyprint (and apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from exc
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = HTML(string=html).write_pdf()
    if pdf is None:
        raise ReportError("WeasyPrint produced no PDF")
    return bytes(pdf)


def write_report(
    evaluation: Evaluation,
    out_dir: Path,
    catalog: RegionCatalog,
    *,
    languages: Sequence[str] = LANGUAGES,
    pdf: bool = True,
) -> list[Path]:
    """Write ``report.<lang>.html`` (and ``.pdf``) per language into ``out_dir``; returns the paths."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create report folder {out_dir}: {exc}") from exc
    written = []
    for lang in languages:
        html = render_html(evaluation, catalog, lang)
        html_path = out_dir / f"report.{lang}.html"
        html_path.write_text(html, encoding="utf-8")
        written.append(html_path)
        if pdf:
            pdf_path = out_dir / f"report.{lang}.pdf"
            pdf_path.write_bytes(html_to_pdf(html))
            written.append(pdf_path)
        logger.info("exercise report (%s) written to %s", lang, out_dir)
    return written
