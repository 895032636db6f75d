"""The page's copy of the workflow (``web/app/src/types.ts``) matches the hub's transition tables."""

import re
from pathlib import Path

from hwarang.domain import IncidentState
from hwarang.hub.workflow.states import INCIDENT_TRANSITIONS, REASON_REQUIRED

TYPES_TS = Path(__file__).resolve().parents[3] / "src" / "hwarang" / "web" / "app" / "src" / "types.ts"


def _ts_constant(name: str) -> str:
    source = TYPES_TS.read_text(encoding="utf-8")
    match = re.search(rf"export const {name}\b[^=]*=\s*(.*?);\n", source, re.DOTALL)
    assert match is not None, f"{name} not found in {TYPES_TS}"
    return match.group(1)


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([a-z_]+)'", text)


def test_states_are_the_hub_states_in_order() -> None:
    assert _quoted(_ts_constant("STATES")) == [state.value for state in IncidentState]


def test_next_states_are_the_hub_transitions() -> None:
    body = _ts_constant("NEXT_STATES")
    rows = dict(re.findall(r"(\w+):\s*\[([^\]]*)\]", body))
    page = {state: set(_quoted(nexts)) for state, nexts in rows.items()}
    hub = {state.value: {to.value for to in nexts} for state, nexts in INCIDENT_TRANSITIONS.items()}
    assert page == hub


def test_reason_required_is_the_hubs() -> None:
    assert set(_quoted(_ts_constant("REASON_REQUIRED"))) == {state.value for state in REASON_REQUIRED}
