"""`hwarang eval alarms` on the PETS 2009 clip with the shipped evaluation site (issue 12's floors).

The detector comes from docs/examples/pets-eval.yaml, so switching that file's detector block
switches what this test measures.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwarang.cli import app

SITE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pets-eval.yaml"


@pytest.mark.integration
def test_eval_alarms_on_pets_meets_the_floors(
    shared_data: Path, vtest_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HWARANG_SHARED_DATA", str(shared_data))
    gt = shared_data / "video" / "PETS09-S2L1_gt_MOT15.txt"
    result = CliRunner().invoke(app, ["eval", "alarms", str(vtest_path), str(gt), "--config", str(SITE)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frames"] == 795 and report["skipped_rules"] == []
    zone, line = report["rules"]["plaza-east"], report["rules"]["plaza-tripwire"]
    assert zone["kind"] == "zone" and zone["expected"] >= 25  # enough stays for the rates to mean something
    assert line["kind"] == "line" and line["expected"] >= 30
    assert zone["recall"] >= 0.95 and zone["precision"] >= 0.93, zone
    assert line["recall"] >= 0.85 and line["precision"] >= 0.95, line
