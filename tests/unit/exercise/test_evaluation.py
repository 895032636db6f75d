"""Checklist scoring, scores per organisation, comparisons, findings and manual scores."""

from datetime import UTC, datetime

import pytest

from hwarang.exercise.checklist import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    ManualScore,
    Metric,
    parse_manual_scores,
    timeliness,
)
from hwarang.exercise.measurement import AgencyInfo, AgencyResult, FalseAlarm, InjectResult, Measurement
from hwarang.exercise.scenario import AgencyRequirement, Expected, ScenarioError
from hwarang.exercise.scoring import Evaluation, evaluate
from hwarang.geo.regions import default_catalog

T = datetime(2026, 8, 25, tzinfo=UTC)
EXPECTED = Expected(
    detect_within_s=60,
    acknowledge_within_s=100,
    resolve_within_s=1000,
    agencies=[AgencyRequirement(code="police-28", share_within_s=200, task_within_s=300)],
)
AGENCIES = {"police-28": AgencyInfo(code="police-28", name="인천경찰청", kind="police")}


def result(inject_id: str, sigungu: str, **times: float | None) -> InjectResult:
    agency = AgencyResult(
        requirement="police-28",
        agency_code="police-28" if times.get("tasked") is not None else None,
        share_due_s=200,
        task_due_s=300,
        shared_s=times.get("tasked"),
        tasked_s=times.get("tasked"),
        task_acknowledged_s=times.get("task_ack"),
    )
    detected = times.get("detected")
    return InjectResult(
        inject_id=inject_id,
        title=inject_id,
        threat="armed_intruder",
        kind="event",
        at=T,
        zone_id=2 if sigungu.startswith(("28", "41")) else 1,
        sido_code=sigungu[:2],
        sigungu_code=sigungu,
        local_government_code=sigungu,
        expected=EXPECTED,
        incident_id=None if detected is None else "6f1c8e0a-4b7e-5d0e-9a3c-000000000001",
        detected_s=detected,
        acknowledged_s=times.get("ack"),
        resolved_s=times.get("resolved"),
        closed_as="resolved" if times.get("resolved") is not None else None,
        agencies=(agency,),
    )


def measurement(*results: InjectResult, alarms: tuple[FalseAlarm, ...] = ()) -> Measurement:
    return Measurement(
        exercise="test",
        start=T,
        end=T,
        measured_at=T,
        injects=list(results),
        false_alarms=list(alarms),
        agencies=AGENCIES,
    )


PERFECT = result("a", "28110", detected=10, ack=50, tasked=150, task_ack=200, resolved=900)
HALF_LATE = result("b", "28140", detected=10, ack=150, tasked=450, task_ack=None, resolved=1500)
MISSED = result("c", "11110")


@pytest.mark.parametrize(
    ("seconds", "score"), [(None, 0.0), (0.0, 1.0), (100.0, 1.0), (150.0, 0.5), (200.0, 0.0), (500.0, 0.0)]
)
def test_timeliness(seconds: float | None, score: float) -> None:
    assert timeliness(seconds, 100.0) == score


def test_scores_per_local_government_sido_zone_and_agency() -> None:
    evaluation = evaluate(measurement(PERFECT, HALF_LATE, MISSED), default_catalog(), generated_at=T)
    perfect = evaluation.score("local_government", "28110")
    half = evaluation.score("local_government", "28140")
    missed = evaluation.score("local_government", "11110")
    assert perfect is not None and half is not None and missed is not None
    assert perfect.score == 100.0 and missed.score == 0.0 and missed.missed == 1
    # detect 1 (w1), ack 0.5 (w2), share 0 (w2: 450 s is past twice 200 s), task 0.5 (w2), resolve 0.5 (w1),
    # judgement 1 (w1): 4.5 / 9.
    assert half.score == 50.0
    assert half.items["acknowledge"].score == 50.0 and half.items["share"].score == 0.0
    incheon = evaluation.score("sido", "28")
    assert incheon is not None and incheon.injects == 2 and incheon.score == 75.0
    zone = evaluation.score("zone", "2")
    assert zone is not None and zone.name.startswith("2. ") and zone.score == incheon.score
    police = evaluation.score("agency", "police-28")
    # It acknowledged one task in time and never the other.
    assert police is not None and police.score == 50.0 and police.name == "인천경찰청"
    assert [s.code for s in evaluation.scores["local_government"]] == ["11110", "28140", "28110"]
    assert perfect.name == "인천광역시 중구"


def test_manual_scores_count_for_their_organisation() -> None:
    evidence = "night shift had one operator for 400 cameras"
    manual = [
        ManualScore(
            item="staffing",
            level="local_government",
            code="28110",
            score=0,
            evidence=evidence,
            evaluator="kim",
        )
    ]
    evaluation = evaluate(measurement(PERFECT), default_catalog(), generated_at=T, manual=manual)
    local = evaluation.score("local_government", "28110")
    assert local is not None and local.items["staffing"].score == 0.0
    assert local.score == round(100 * 9 / 10, 1)  # nine measured weight points at 1, one manual at 0


def test_false_alarms_count_for_where_they_were_raised() -> None:
    alarm = FalseAlarm(
        incident_id="6f1c8e0a-4b7e-5d0e-9a3c-000000000009",
        camera_id="fa",
        zone_id=2,
        sido_code="41",
        sigungu_code="41111",
        first_seen=T,
        state="false_alarm",
        closed_s=900,
    )
    evaluation = evaluate(measurement(PERFECT, alarms=(alarm,)), default_catalog(), generated_at=T)
    suwon = evaluation.score("local_government", "41110")  # the district counts for its city
    assert suwon is not None and suwon.items["false-alarm"].score == 50.0 and suwon.injects == 0


def test_links_findings_and_comparison() -> None:
    catalog = default_catalog()
    before = evaluate(measurement(HALF_LATE, MISSED), catalog, generated_at=T)
    after = evaluate(measurement(PERFECT, HALF_LATE, MISSED), catalog, generated_at=T, previous=before)
    assert after.previous_exercise == "test"
    zone_change = next(d for d in after.comparison if d.level == "zone" and d.code == "2")
    assert zone_change.before < zone_change.after
    keys = [f.key for f in after.findings]
    assert (
        keys[0] == "overall" and "missed" in keys and "comparison" in keys and "low-local_government" in keys
    )
    missed = next(f for f in after.findings if f.key == "missed")
    assert "c" in missed.text_en and missed.text_ko.startswith("탐지되지 않은 상황 1건")
    assert after.links[0].link == "acknowledge→resolve"
    slowest = next(f for f in after.findings if f.key == "slowest-link")
    assert "acknowledgement → sharing" in slowest.text_en  # the whole operation is not a link to fix
    assert all(s.link != "acknowledge→resolve" for s in after.slowest)
    assert after.slowest[0].seconds == 300.0 and after.slowest[0].inject_id == "b"


def test_an_evaluation_round_trips_through_json() -> None:
    evaluation = evaluate(measurement(PERFECT, HALF_LATE), default_catalog(), generated_at=T)
    again = Evaluation.model_validate_json(evaluation.model_dump_json())
    assert again == evaluation


def test_checklist_items_are_consistent() -> None:
    assert sum(item.kind == "manual" for item in DEFAULT_CHECKLIST) == 2
    with pytest.raises(ValueError, match="measured items need a metric"):
        ChecklistItem(id="x", title_ko="x", title_en="x", weight=1, kind="measured")
    with pytest.raises(ValueError, match="needs target_s"):
        ChecklistItem(
            id="x", title_ko="x", title_en="x", weight=1, kind="measured", metric=Metric.AGENCY_ACKNOWLEDGE
        )


def test_manual_score_files_are_checked_with_lines() -> None:
    text = """\
scores:
  - item: staffing
    level: local_government
    code: "28110"
    score: 0.5
    evidence: two of three shifts staffed
    evaluator: 행정안전부 평가관
  - item: snacks
    level: agency
    code: police-28
    score: 1.5
    evidence: ""
    evaluator: lee
"""
    with pytest.raises(ScenarioError) as info:
        parse_manual_scores(text, "manual.yaml")
    assert str(info.value).startswith("manual.yaml: 2 problem(s) in manual score file:")
    assert [str(p) for p in info.value.problems] == [
        "manual.yaml:11:5: scores.1.score: Input should be less than or equal to 1",
        "manual.yaml:12:5: scores.1.evidence: String should have at least 1 character",
    ]
    good = parse_manual_scores(text.split("  - item: snacks")[0], "manual.yaml")
    assert good[0].evaluator == "행정안전부 평가관"
    with pytest.raises(ScenarioError, match=r"manual\.yaml:2:5: scores\.0\.item: 'snacks' is not a manual"):
        parse_manual_scores(text.split("  - item: snacks")[0].replace("staffing", "snacks"), "manual.yaml")
