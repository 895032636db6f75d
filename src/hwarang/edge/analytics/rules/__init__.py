"""Pure, deterministic video-analytics rules over tracked detections (time is passed in)."""

from collections.abc import Callable
from typing import Any

from hwarang.edge.analytics.rules.base import NO_TRACK, Rule, RuleHit
from hwarang.edge.analytics.rules.config import (
    CrowdingConfig,
    LineCrossingConfig,
    LoiteringConfig,
    RuleConfig,
    ZoneIntrusionConfig,
    parse_rule_config,
)
from hwarang.edge.analytics.rules.crowding import CrowdingRule, crowding_rule
from hwarang.edge.analytics.rules.line import LineCrossingRule, crossing_direction, line_crossing_rule
from hwarang.edge.analytics.rules.zone import DwellRule, loitering_rule, zone_intrusion_rule
from hwarang.edge.errors import AnalyticsError

_BUILDERS: dict[str, Callable[[Any], Rule]] = {
    "zone_intrusion": zone_intrusion_rule,
    "line_crossing": line_crossing_rule,
    "loitering": loitering_rule,
    "crowding": crowding_rule,
}


def build_rule(config: RuleConfig) -> Rule:
    """Build the rule ``config`` describes, by its ``type``."""
    builder = _BUILDERS.get(config.type)
    if builder is None:
        raise AnalyticsError(
            f"rule {config.name!r}: unknown rule type {config.type!r}; "
            f"known types: {', '.join(sorted(_BUILDERS))}"
        )
    return builder(config)


__all__ = [
    "NO_TRACK",
    "CrowdingConfig",
    "CrowdingRule",
    "DwellRule",
    "LineCrossingConfig",
    "LineCrossingRule",
    "LoiteringConfig",
    "Rule",
    "RuleConfig",
    "RuleHit",
    "ZoneIntrusionConfig",
    "build_rule",
    "crossing_direction",
    "parse_rule_config",
]
