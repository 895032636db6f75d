"""Rule configuration validation: clear errors that name the rule and the key."""

import pytest
from pydantic import TypeAdapter, ValidationError

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules import (
    CrowdingConfig,
    LineCrossingConfig,
    LoiteringConfig,
    RuleConfig,
    ZoneIntrusionConfig,
    build_rule,
    parse_rule_config,
)
from hwarang.edge.errors import AnalyticsError

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]


def zone(polygon: object, name: str = "north-fence") -> dict[str, object]:
    return {"type": "zone_intrusion", "name": name, "polygon": polygon}


@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        ([[0, 0], [10, 0]], "polygon needs at least 3 points, got 2"),
        ([[0, 0], [5, 5], [10, 10]], "polygon is degenerate"),
        ([[0, 0], [10, 10], [10, 0], [0, 10]], "polygon is not simple"),
    ],
)
def test_bad_polygons_name_the_rule(polygon: object, message: str) -> None:
    with pytest.raises(ValidationError, match=f"rule 'north-fence': {message}"):
        ZoneIntrusionConfig.model_validate(zone(polygon))


def test_non_finite_and_malformed_points_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"polygon\.1\.0"):
        ZoneIntrusionConfig.model_validate(zone([[0, 0], [float("nan"), 0], [10, 10]]))
    with pytest.raises(ValidationError, match=r"polygon\.2"):
        ZoneIntrusionConfig.model_validate(zone([[0, 0], [10, 0], [10, 10, 3]]))


def test_degenerate_line_names_the_rule() -> None:
    with pytest.raises(ValidationError, match=r"rule 'gate-line': line from .* is too short"):
        LineCrossingConfig(type="line_crossing", name="gate-line", start=(5, 5), end=(5, 5.5))


def test_bad_direction_and_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="direction"):
        LineCrossingConfig.model_validate(
            {"type": "line_crossing", "name": "l", "start": [0, 0], "end": [9, 9], "direction": "up"}
        )
    with pytest.raises(ValidationError, match="min_dwel_s"):
        ZoneIntrusionConfig.model_validate({**zone(SQUARE), "min_dwel_s": 2})


def test_parse_rule_config_names_rule_and_key() -> None:
    with pytest.raises(
        AnalyticsError, match=r"rule 'yard': invalid 'zone_intrusion' rule config: .*min_dwel_s"
    ):
        parse_rule_config({**zone(SQUARE, name="yard"), "min_dwel_s": 2})
    with pytest.raises(
        AnalyticsError, match=r"rule 'x': unknown rule type 'tripwire'; known types: crowding, line_crossing"
    ):
        parse_rule_config({"type": "tripwire", "name": "x"})
    with pytest.raises(AnalyticsError, match=r"rule 'c': invalid 'crowding' rule config: min_count: Field"):
        parse_rule_config({"type": "crowding", "name": "c", "polygon": SQUARE})


def test_union_selects_by_type_and_builds_each_rule() -> None:
    adapter: TypeAdapter[RuleConfig] = TypeAdapter(RuleConfig)
    configs = [
        adapter.validate_python(zone(SQUARE)),
        adapter.validate_python({"type": "line_crossing", "name": "l", "start": [0, 0], "end": [9, 9]}),
        adapter.validate_python({"type": "loitering", "name": "t", "polygon": SQUARE, "classes": ["person"]}),
        adapter.validate_python({"type": "crowding", "name": "c", "polygon": SQUARE, "min_count": 4}),
    ]
    assert [type(c) for c in configs] == [
        ZoneIntrusionConfig,
        LineCrossingConfig,
        LoiteringConfig,
        CrowdingConfig,
    ]
    assert isinstance(configs[2], LoiteringConfig) and configs[2].classes == [ObjectClass.PERSON]
    kinds = [build_rule(c).kind for c in configs]
    assert kinds == [RuleKind.ZONE_INTRUSION, RuleKind.LINE_CROSSING, RuleKind.LOITERING, RuleKind.CROWDING]
    assert [build_rule(c).name for c in configs] == ["north-fence", "l", "t", "c"]


def test_defaults() -> None:
    config = ZoneIntrusionConfig.model_validate(zone(SQUARE))
    assert config.min_dwell_s == 0.5 and config.classes is None
    assert LoiteringConfig(type="loitering", name="t", polygon=[(0, 0), (4, 0), (0, 4)]).dwell_s == 20.0
