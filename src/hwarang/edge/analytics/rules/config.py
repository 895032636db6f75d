"""Rule configurations: the ``RuleConfig`` union is the list of rule plugins, selected by ``type``.

Each rule module holds its config class (``type: Literal[...]`` and ``build``) next to the rule; the
shared fields are in ``base.py``. Adding a rule: one module, one line in ``RuleConfig`` below.
"""

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from hwarang.edge.analytics.rules.base import (
    MIN_LINE_LENGTH_PX,
    MIN_POLYGON_AREA_PX,
    Point,
    PolygonRuleConfig,
    ReacquireSettings,
    RuleConfigBase,
)
from hwarang.edge.analytics.rules.crowding import CrowdingConfig
from hwarang.edge.analytics.rules.line import LineCrossingConfig
from hwarang.edge.analytics.rules.zone import LoiteringConfig, ZoneIntrusionConfig
from hwarang.edge.errors import AnalyticsError
from hwarang.plugins import Registry

RuleConfig = Annotated[
    ZoneIntrusionConfig | LineCrossingConfig | LoiteringConfig | CrowdingConfig,
    Field(discriminator="type"),
]
"""Any rule configuration; pydantic picks the rule by ``type``."""

RULES: Registry[RuleConfig] = Registry("rule", RuleConfig, error=AnalyticsError)
"""The rule plugins, read from ``RuleConfig``."""


def parse_rule_config(data: Mapping[str, object]) -> RuleConfig:
    """Validate one rule's settings, raising ``AnalyticsError`` that names the rule and the bad keys."""
    return RULES.parse(data, what=f"rule {data.get('name', '<unnamed>')!r}")


__all__ = [
    "MIN_LINE_LENGTH_PX",
    "MIN_POLYGON_AREA_PX",
    "RULES",
    "CrowdingConfig",
    "LineCrossingConfig",
    "LoiteringConfig",
    "Point",
    "PolygonRuleConfig",
    "ReacquireSettings",
    "RuleConfig",
    "RuleConfigBase",
    "ZoneIntrusionConfig",
    "parse_rule_config",
]
