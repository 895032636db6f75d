"""Pure, deterministic video-analytics rules over tracked detections (time is passed in)."""

from hwarang.edge.analytics.rules.base import NO_TRACK, Rule, RuleHit
from hwarang.edge.analytics.rules.config import (
    RULES,
    CrowdingConfig,
    LineCrossingConfig,
    LoiteringConfig,
    RuleConfig,
    RuleConfigBase,
    ZoneIntrusionConfig,
    parse_rule_config,
)
from hwarang.edge.analytics.rules.crowding import CrowdingRule, crowding_rule
from hwarang.edge.analytics.rules.line import LineCrossingRule, crossing_direction, line_crossing_rule
from hwarang.edge.analytics.rules.zone import DwellRule, loitering_rule, zone_intrusion_rule


def build_rule(config: RuleConfigBase) -> Rule:
    """Build the rule ``config`` describes (``AnalyticsError`` names the known types otherwise)."""
    return RULES.check(config, what=f"rule {config.name!r}").build()


__all__ = [
    "NO_TRACK",
    "RULES",
    "CrowdingConfig",
    "CrowdingRule",
    "DwellRule",
    "LineCrossingConfig",
    "LineCrossingRule",
    "LoiteringConfig",
    "Rule",
    "RuleConfig",
    "RuleConfigBase",
    "RuleHit",
    "ZoneIntrusionConfig",
    "build_rule",
    "crossing_direction",
    "crowding_rule",
    "line_crossing_rule",
    "loitering_rule",
    "parse_rule_config",
    "zone_intrusion_rule",
]
