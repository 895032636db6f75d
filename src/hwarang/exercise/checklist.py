"""The evaluation checklist: weighted items, measured from the timeline or entered by evaluators.

A measured item turns each inject's measured time into a score between 0 and 1 with
:func:`timeliness` (1 up to the deadline, falling linearly to 0 at twice the deadline, 0 when the
step never came). A manual item is scored by an evaluator for one organisation, with evidence
(what was seen, a document, a photo reference); manual scores are kept in a YAML file read with
:func:`load_manual_scores`, whose errors name the file, line and field like scenario errors.
"""

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from hwarang.exercise.scenario import ScenarioError
from hwarang.exercise.yamlmarks import MarkedYamlError, Problem, load_marked, locate

Level = Literal["zone", "sido", "local_government", "agency"]
"""What a score is about."""
LEVELS: tuple[Level, ...] = ("zone", "sido", "local_government", "agency")
_WHAT = "manual score file"


class Metric(StrEnum):
    """What a measured item measures."""

    DETECT = "detect"
    ACKNOWLEDGE = "acknowledge"
    SHARE = "share"
    TASK = "task"
    RESOLVE = "resolve"
    JUDGEMENT = "judgement"
    AGENCY_ACKNOWLEDGE = "agency_acknowledge"
    FALSE_ALARM_CLOSE = "false_alarm_close"


class ChecklistItem(BaseModel):
    """One weighted item of the checklist."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Item id.")
    title_ko: str = Field(min_length=1, description="Korean title.")
    title_en: str = Field(min_length=1, description="English title.")
    weight: float = Field(gt=0.0, description="Relative weight in the score.")
    kind: Literal["measured", "manual"] = Field(description="Measured from the timeline, or entered.")
    metric: Metric | None = Field(default=None, description="For measured items: what is measured.")
    target_s: float | None = Field(
        default=None, gt=0.0, description="Deadline for metrics without one in the scenario (seconds)."
    )

    @model_validator(mode="after")
    def _metric_for_measured(self) -> "ChecklistItem":
        if (self.kind == "measured") != (self.metric is not None):
            raise ValueError("measured items need a metric; manual items have none")
        if self.metric in (Metric.AGENCY_ACKNOWLEDGE, Metric.FALSE_ALARM_CLOSE) and self.target_s is None:
            raise ValueError(f"metric {self.metric} needs target_s")
        return self

    def title(self, lang: str) -> str:
        """The title in ``lang`` ('ko' or 'en')."""
        return self.title_ko if lang == "ko" else self.title_en


DEFAULT_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        id="detect", title_ko="위협 탐지", title_en="Threat detected", weight=1.0, kind="measured",
        metric=Metric.DETECT,
    ),
    ChecklistItem(
        id="acknowledge", title_ko="상황 접수", title_en="Incident acknowledged", weight=2.0,
        kind="measured", metric=Metric.ACKNOWLEDGE,
    ),
    ChecklistItem(
        id="share", title_ko="유관기관 전파", title_en="Agencies informed", weight=2.0, kind="measured",
        metric=Metric.SHARE,
    ),
    ChecklistItem(
        id="task", title_ko="조치 지시", title_en="Agencies tasked", weight=2.0, kind="measured",
        metric=Metric.TASK,
    ),
    ChecklistItem(
        id="resolve", title_ko="상황 종결", title_en="Incident resolved", weight=1.0, kind="measured",
        metric=Metric.RESOLVE,
    ),
    ChecklistItem(
        id="judgement", title_ko="상황 판단", title_en="Threat not dismissed", weight=1.0,
        kind="measured", metric=Metric.JUDGEMENT,
    ),
    ChecklistItem(
        id="agency-ack", title_ko="기관 임무 수령", title_en="Task acknowledged by the agency",
        weight=1.0, kind="measured", metric=Metric.AGENCY_ACKNOWLEDGE, target_s=300.0,
    ),
    ChecklistItem(
        id="false-alarm", title_ko="오경보 처리", title_en="False alarms closed", weight=0.5,
        kind="measured", metric=Metric.FALSE_ALARM_CLOSE, target_s=600.0,
    ),
    ChecklistItem(
        id="staffing", title_ko="관제요원 근무 편성", title_en="Control-center staffing", weight=1.0,
        kind="manual",
    ),
    ChecklistItem(
        id="communications", title_ko="통신 수단 점검", title_en="Communications checked", weight=1.0,
        kind="manual",
    ),
)  # fmt: skip
"""The default checklist (a site replaces it with the evaluation team's own)."""


def timeliness(seconds: float | None, target_s: float) -> float:
    """1.0 up to ``target_s``, linearly down to 0.0 at twice the target, 0.0 when it never happened."""
    if seconds is None:
        return 0.0
    if seconds <= target_s:
        return 1.0
    return max(0.0, 1.0 - (seconds - target_s) / target_s)


class ManualScore(BaseModel):
    """An evaluator's score of a manual item for one organisation, with its evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str = Field(description="A manual checklist item id.")
    level: Level = Field(description="What is scored: zone, sido, local_government or agency.")
    code: str = Field(min_length=1, description="Zone number, sido / local government code, agency code.")
    score: float = Field(ge=0.0, le=1.0, description="0 (not done) to 1 (fully done).")
    evidence: str = Field(min_length=1, description="What the evaluator saw or was shown.")
    evaluator: str = Field(min_length=1, description="Who scored it.")


class _ManualFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: list[ManualScore] = Field(default_factory=list)


def parse_manual_scores(
    text: str, source: str, checklist: tuple[ChecklistItem, ...] = DEFAULT_CHECKLIST
) -> list[ManualScore]:
    """Manual scores from YAML (``scores: [...]``); ScenarioError names file, line and field."""
    try:
        raw, marks = load_marked(text, source)
    except MarkedYamlError as exc:
        raise ScenarioError(source, exc.problems, _WHAT) from None
    try:
        parsed = TypeAdapter(_ManualFile).validate_python(raw or {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            mark, field = locate(error["loc"], marks, raw)
            problems.append(Problem(source, mark.line, mark.column, field, error["msg"]))
        raise ScenarioError(source, problems, _WHAT) from None
    manual = {item.id for item in checklist if item.kind == "manual"}
    problems = []
    for i, score in enumerate(parsed.scores):
        if score.item not in manual:
            mark, field = locate(("scores", i, "item"), marks, raw)
            known = ", ".join(sorted(manual))
            message = f"{score.item!r} is not a manual checklist item (known: {known})"
            problems.append(Problem(source, mark.line, mark.column, field, message))
    if problems:
        raise ScenarioError(source, problems, _WHAT)
    return parsed.scores


def load_manual_scores(
    path: Path, checklist: tuple[ChecklistItem, ...] = DEFAULT_CHECKLIST
) -> list[ManualScore]:
    """Read a manual score file (see :func:`parse_manual_scores`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), 1, 1, "(file)", f"cannot read: {exc}")
        raise ScenarioError(str(path), [problem], _WHAT) from None
    return parse_manual_scores(text, str(path), checklist)
