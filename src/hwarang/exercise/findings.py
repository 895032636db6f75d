"""Findings and recommendations written from an evaluation's numbers, in Korean and English."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from hwarang.exercise.scoring import Evaluation

LOW_SCORE = 70.0
"""Organisations scoring below this are named in the findings."""

LINK_LABELS: dict[str, tuple[str, str]] = {
    "inject→detect": ("상황 발생→탐지", "inject → detection"),
    "detect→acknowledge": ("탐지→접수", "detection → acknowledgement"),
    "acknowledge→share": ("접수→전파", "acknowledgement → sharing"),
    "acknowledge→task": ("접수→임무 부여", "acknowledgement → tasking"),
    "acknowledge→resolve": ("접수→종결", "acknowledgement → resolution"),
    "task→agency acknowledge": ("임무 부여→기관 수령", "tasking → agency acknowledgement"),
}
"""Korean and English names of the links of the response chain."""

_LINK_ADVICE: dict[str, tuple[str, str]] = {
    "inject→detect": (
        "취약 구역의 카메라 배치와 분석 규칙(구역·체류 시간)을 점검하십시오.",
        "Review camera coverage and analytics rules (zones, dwell times) where detection was slow.",
    ),
    "detect→acknowledge": (
        "관제요원의 경보 확인 절차를 단순화하고 야간 근무 인원을 보강하십시오.",
        "Simplify how operators confirm alarms and reinforce night shifts in the control centers.",
    ),
    "acknowledge→share": (
        "위협 유형별 전파 대상 기관 목록을 사전에 지정하여 한 번에 전파하십시오.",
        "Pre-assign the agencies to inform for each threat type so sharing is one action.",
    ),
    "acknowledge→task": (
        "위협 유형별 표준 임무 지시 양식을 준비하여 임무 부여 시간을 줄이십시오.",
        "Prepare standard tasking templates per threat type to shorten tasking.",
    ),
    "acknowledge→resolve": (
        "상황 종결 기준과 보고 절차를 명확히 하십시오.",
        "Clarify when and how incidents are closed and reported.",
    ),
    "task→agency acknowledge": (
        "기관 연락관의 임무 수령 확인 체계(당직, 알림)를 점검하십시오.",
        "Check how agency liaisons receive and confirm tasks (duty officers, notifications).",
    ),
}


class Finding(BaseModel):
    """One finding with its recommendation."""

    key: str
    severity: Literal["info", "warning", "critical"]
    text_ko: str
    text_en: str
    recommendation_ko: str = ""
    recommendation_en: str = ""

    def text(self, lang: str) -> str:
        """The finding in ``lang``."""
        return self.text_ko if lang == "ko" else self.text_en

    def recommendation(self, lang: str) -> str:
        """The recommendation in ``lang``."""
        return self.recommendation_ko if lang == "ko" else self.recommendation_en


def duration(seconds: float | None, lang: str = "en") -> str:
    """``95`` -> '1분 35초' / '1 min 35 s'; '-' for None."""
    if seconds is None:
        return "-"
    total = round(seconds)
    sign, total = ("-" if total < 0 else ""), abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    units = ("시간", "분", "초") if lang == "ko" else (" h", " min", " s")
    parts = [f"{v}{u}" for v, u in zip((hours, minutes, secs), units, strict=True) if v]
    return sign + (" ".join(parts) if parts else f"0{units[2]}")


def link_label(link: str, lang: str) -> str:
    """A chain link's name in ``lang``."""
    ko, en = LINK_LABELS.get(link, (link, link))
    return ko if lang == "ko" else en


def _summary(ev: "Evaluation") -> Finding:
    injects = ev.measurement.injects
    missed = sum(r.missed for r in injects)
    late = sum(bool(r.late) for r in injects)
    alarms = len(ev.measurement.false_alarms)
    return Finding(
        key="overall",
        severity="info" if ev.overall >= LOW_SCORE else "warning",
        text_ko=f"종합 점수 {ev.overall:.1f}점: 상황 {len(injects)}건 중 미탐지 {missed}건, "
        f"지연 또는 누락된 조치가 있는 상황 {late}건, 오경보 {alarms}건.",
        text_en=f"Overall score {ev.overall:.1f}: of {len(injects)} injects, {missed} were not detected, "
        f"{late} had a late or missing step, and {alarms} false alarms were raised.",
    )


def _slowest_link(ev: "Evaluation") -> Finding | None:
    links = [s for s in ev.links if s.link != "acknowledge→resolve"]  # the whole operation: long by nature
    if not links:
        return None
    link = links[0]
    advice = _LINK_ADVICE.get(link.link, ("", ""))
    return Finding(
        key="slowest-link",
        severity="warning",
        text_ko=f"가장 느린 구간은 '{link_label(link.link, 'ko')}'입니다: "
        f"중앙값 {duration(link.median_s, 'ko')}, 90백분위 {duration(link.p90_s, 'ko')} ({link.count}건).",
        text_en=f"The slowest link is '{link_label(link.link, 'en')}': median {duration(link.median_s)}, "
        f"90th percentile {duration(link.p90_s)} ({link.count} injects).",
        recommendation_ko=advice[0],
        recommendation_en=advice[1],
    )


def _low_scores(ev: "Evaluation", level: str, ko: str, en: str, limit: int) -> Finding | None:
    low = [s for s in ev.scores.get(level, []) if s.score < LOW_SCORE][:limit]
    if not low:
        return None
    ko_list = ", ".join(f"{s.name} {s.score:.0f}점" for s in low)
    en_list = ", ".join(f"{s.name} ({s.score:.0f})" for s in low)
    weakest = min(low[0].items.items(), key=lambda kv: kv[1].score)[0]
    item = next((i for i in ev.checklist if i.id == weakest), None)
    item_ko, item_en = (weakest, weakest) if item is None else (item.title_ko, item.title_en)
    return Finding(
        key=f"low-{level}",
        severity="critical" if low[0].score < LOW_SCORE / 2 else "warning",
        text_ko=f"{ko} 중 {LOW_SCORE:.0f}점 미만: {ko_list}.",
        text_en=f"{en} below {LOW_SCORE:.0f}: {en_list}.",
        recommendation_ko=f"{low[0].name}의 가장 취약한 항목은 '{item_ko}'입니다. "
        "해당 항목을 중점으로 보완 훈련을 실시하십시오.",
        recommendation_en=f"The weakest item of {low[0].name} is '{item_en}'; "
        "focus follow-up training on it.",
    )


def _misses(ev: "Evaluation") -> list[Finding]:
    found = []
    injects = ev.measurement.injects
    missed = [r for r in injects if r.missed]
    if missed:
        ids = "; ".join(r.title or r.inject_id for r in missed[:8]) + (" ..." if len(missed) > 8 else "")
        found.append(
            Finding(
                key="missed",
                severity="critical",
                text_ko=f"탐지되지 않은 상황 {len(missed)}건 ({ids}).",
                text_en=f"{len(missed)} injects were never detected ({ids}).",
                recommendation_ko="해당 카메라의 영상 분석 설정과 통신 상태를 점검하십시오.",
                recommendation_en="Check the analytics settings and links of the cameras concerned.",
            )
        )
    dismissed = [r for r in injects if r.dismissed]
    if dismissed:
        found.append(
            Finding(
                key="dismissed",
                severity="critical",
                text_ko=f"실제 상황(훈련 상황)을 오경보로 종결한 사례 {len(dismissed)}건.",
                text_en=f"{len(dismissed)} injects were closed as false alarms by operators.",
                recommendation_ko="오경보 판단 전 현장 확인 절차를 교육하십시오.",
                recommendation_en="Train operators to verify on site before dismissing an alarm.",
            )
        )
    unanswered = [r for r in injects if not r.missed and r.acknowledged_s is None]
    if unanswered:
        found.append(
            Finding(
                key="unanswered",
                severity="critical",
                text_ko=f"탐지되었으나 접수되지 않은 상황 {len(unanswered)}건.",
                text_en=f"{len(unanswered)} detected injects were never acknowledged.",
                recommendation_ko="경보 알림 수단과 관제요원 배치를 점검하십시오.",
                recommendation_en="Check alarm notification and operator staffing.",
            )
        )
    return found


def _false_alarms(ev: "Evaluation") -> Finding | None:
    alarms = ev.measurement.false_alarms
    if not alarms:
        return None
    closed = [a.closed_s for a in alarms if a.closed_s is not None]
    median = sorted(closed)[len(closed) // 2] if closed else None
    return Finding(
        key="false-alarms",
        severity="info" if len(alarms) <= len(ev.measurement.injects) * 0.1 else "warning",
        text_ko=f"훈련 중 오경보 {len(alarms)}건, 종결 {len(closed)}건 "
        f"(종결 시간 중앙값 {duration(median, 'ko')}).",
        text_en=f"{len(alarms)} false alarms during the exercise, {len(closed)} closed "
        f"(median {duration(median)} to close).",
        recommendation_ko="오경보가 잦은 카메라의 분석 구역과 민감도를 조정하십시오.",
        recommendation_en="Tune zones and sensitivity of the cameras raising false alarms.",
    )


def _integrity(ev: "Evaluation") -> Finding | None:
    injects = ev.measurement.injects
    incomplete = [r for r in injects if not r.audit_complete]
    escalations = sum(r.escalations for r in injects)
    if not incomplete and not escalations:
        return None
    return Finding(
        key="integrity",
        severity="critical" if incomplete else "info",
        text_ko=f"감사 기록이 불완전한 상황 {len(incomplete)}건, 기한 초과로 상향된 임무 {escalations}건.",
        text_en=f"{len(incomplete)} incidents with incomplete audit records; "
        f"{escalations} overdue-task escalations.",
    )


def _comparison(ev: "Evaluation") -> Finding | None:
    zones = [d for d in ev.comparison if d.level == "zone"]
    if not zones:
        return None
    best = max(zones, key=lambda d: d.change)
    worst = min(zones, key=lambda d: d.change)
    return Finding(
        key="comparison",
        severity="info",
        text_ko=f"이전 훈련({ev.previous_exercise}) 대비 가장 향상된 권역은 "
        f"{best.name} ({best.change:+.1f}점), 가장 하락한 권역은 {worst.name} ({worst.change:+.1f}점)입니다.",
        text_en=f"Against the previous exercise ({ev.previous_exercise}), {best.name} improved most "
        f"({best.change:+.1f} points) and {worst.name} declined most ({worst.change:+.1f}).",
    )


def findings_for(ev: "Evaluation") -> list[Finding]:
    """The findings of an evaluation, most important first."""
    found: list[Finding | None] = [_summary(ev), *_misses(ev), _slowest_link(ev)]
    found.append(_low_scores(ev, "zone", "권역", "Zones", 11))
    found.append(_low_scores(ev, "local_government", "지방자치단체", "Local governments", 8))
    found.append(_low_scores(ev, "agency", "기관", "Agencies", 8))
    found += [_false_alarms(ev), _integrity(ev), _comparison(ev)]
    order = {"critical": 0, "warning": 1, "info": 2}
    kept = [f for f in found if f is not None]
    return [kept[0], *sorted(kept[1:], key=lambda f: order[f.severity])]
