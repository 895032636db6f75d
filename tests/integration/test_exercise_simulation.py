"""`hwarang exercise simulate`: the national exercise on this machine, scored and reported as PDF."""

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2
import pytest
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.exercise.scoring import Evaluation
from hwarang.exercise.simulate import local_governments
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

pytestmark = pytest.mark.integration

FLOOR_S = 600.0
"""The issue's floor for the whole national simulation with its reports."""


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, float]:
    out = tmp_path_factory.mktemp("national")
    began = time.perf_counter()
    result = CliRunner().invoke(app, ["exercise", "simulate", "--out", str(out), "--seed", "11", "--keep-db"])
    return result, out, time.perf_counter() - began


def test_every_zone_and_local_government_is_scored(simulation: tuple[Any, Path, float]) -> None:
    result, out, seconds = simulation
    assert result.exit_code == 0, result.output
    assert seconds < FLOOR_S
    evaluation = Evaluation.model_validate_json((out / "evaluation.json").read_text(encoding="utf-8"))
    catalog = default_catalog()
    assert {s.code for s in evaluation.scores["zone"]} == {str(z.id) for z in catalog.zones().zones}
    assert {s.code for s in evaluation.scores["sido"]} == {r.code for r in catalog.sidos()}
    assert {s.code for s in evaluation.scores["local_government"]} == set(local_governments(catalog))
    assert len(evaluation.measurement.injects) == 229 and len(evaluation.scores["agency"]) > 40
    injects = evaluation.measurement.injects
    detected = [r for r in injects if not r.missed]
    assert 0.9 * len(injects) <= len(detected) < len(injects) + 1
    assert all(r.acknowledged_s is None or r.acknowledged_s > r.detected_s for r in detected if r.detected_s)
    assert all(0 <= s.score <= 100 for level in evaluation.scores.values() for s in level)
    assert 40 < evaluation.overall < 100 and evaluation.findings[0].key == "overall"
    assert "overall" in result.output and "229 local governments" in result.output
    for zone in catalog.zones().zones:
        assert zone.name in result.output


def test_exercise_incidents_stay_out_of_the_hub_lists(simulation: tuple[Any, Path, float]) -> None:
    _result, out, _seconds = simulation
    database = Database(f"sqlite:///{out / 'hub' / 'hub.sqlite3'}")
    try:
        service = HubService(database, EvidenceStore(out / "hub" / "evidence"))
        assert service.incidents.recent() == []
        everything = service.incidents.recent(limit=1000, include_exercise=True)
        assert len(everything) > 229 * 0.9 and all(i.exercise for i in everything)
        assert service.audit.verify().ok
    finally:
        database.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_pdf_report_renders_non_empty_pages(simulation: tuple[Any, Path, float], lang: str) -> None:
    _result, out, _seconds = simulation
    html = (out / f"report.{lang}.html").read_text(encoding="utf-8")
    assert (
        "화랑훈련 통합방위태세 평가 보고서" if lang == "ko" else "integrated-defense posture evaluation"
    ) in html
    assert html.count("data:image/png;base64,") == 5
    document = pypdfium2.PdfDocument(out / f"report.{lang}.pdf")
    try:
        assert len(document) >= 8
        for index in range(4):
            image = np.asarray(document[index].render(scale=1.0).to_pil().convert("L"))
            ink = float((image < 200).mean())
            assert image.shape[0] > 800 and 0.003 < ink < 0.6, (index, ink)
        text = document[1].get_textpage().get_text_range()
        assert ("요약" if lang == "ko" else "Summary") in text
    finally:
        document.close()


def test_a_saved_evaluation_is_re_rendered_and_compared(
    simulation: tuple[Any, Path, float], tmp_path: Path
) -> None:
    _result, out, _seconds = simulation
    saved = out / "evaluation.json"
    again = CliRunner().invoke(
        app,
        [
            "exercise",
            "report",
            "--evaluation",
            str(saved),
            "--out",
            str(tmp_path),
            "--lang",
            "en",
            "--no-pdf",
        ],
    )
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "evaluation.json").read_text()) == json.loads(saved.read_text())
    assert (tmp_path / "report.en.html").is_file() and not (tmp_path / "report.en.pdf").exists()
