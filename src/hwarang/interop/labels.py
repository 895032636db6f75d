"""Korean labels of the domain vocabulary, for partner-facing text (CAP descriptions, CoT remarks)."""

from hwarang.domain import Classification, IncidentState, ObjectClass, RuleKind, Severity

OBJECT_KO = {
    ObjectClass.PERSON: "사람",
    ObjectClass.VEHICLE: "차량",
    ObjectClass.TWO_WHEELER: "이륜차",
    ObjectClass.BOAT: "선박",
    ObjectClass.AIRCRAFT: "항공기",
    ObjectClass.ANIMAL: "동물",
    ObjectClass.UNKNOWN: "미상",
}
RULE_KO = {
    RuleKind.ZONE_INTRUSION: "구역 침입",
    RuleKind.LINE_CROSSING: "경계선 통과",
    RuleKind.LOITERING: "배회",
    RuleKind.CROWDING: "군집",
}
STATE_KO = {
    IncidentState.NEW: "신규",
    IncidentState.ACKNOWLEDGED: "접수",
    IncidentState.ASSESSING: "평가 중",
    IncidentState.RESPONDING: "대응 중",
    IncidentState.RESOLVED: "종결",
    IncidentState.FALSE_ALARM: "오경보",
}
SEVERITY_KO = {
    Severity.LOW: "낮음",
    Severity.MEDIUM: "보통",
    Severity.HIGH: "높음",
    Severity.CRITICAL: "긴급",
}
CLASSIFICATION_KO = {
    Classification.UNCLASSIFIED: "평문",
    Classification.RESTRICTED: "대외비",
    Classification.CONFIDENTIAL: "III급 비밀",
    Classification.SECRET: "II급 비밀",
}
