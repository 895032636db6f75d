"""The countermeasure state machines, as explicit transition tables (pure: no I/O).

Incidents (state -> allowed next states):

- ``new`` -> ``acknowledged``, ``false_alarm``
- ``acknowledged`` -> ``assessing``, ``responding`` (the situation is evident), ``false_alarm``
- ``assessing`` -> ``responding``, ``resolved`` (needed no response), ``false_alarm``
- ``responding`` -> ``resolved``, ``false_alarm``
- ``resolved``, ``false_alarm``: terminal; they refuse every transition. Only an explicit *reopen*
  by a commander (or an administrator) moves them back to ``assessing``.

Closing an incident (``resolved`` or ``false_alarm``), and reopening one, needs a reason.

Tasks: ``open -> acknowledged -> in_progress -> done`` (``in_progress`` may be reported again and
again, each report with its text; ``acknowledged`` may go straight to ``done``). The tasked agency
may ``decline`` an open, acknowledged or in-progress task (with a reason); the tasking center may
``cancel`` it. ``done``, ``declined`` and ``cancelled`` are final.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum

from hwarang.domain import IncidentState, Role, TaskState
from hwarang.hub.errors import ConflictError, HubError

__all__ = [
    "CLOSED_TASK_STATES",
    "INCIDENT_TRANSITIONS",
    "REASON_REQUIRED",
    "REOPEN_ROLES",
    "REOPEN_STATE",
    "TASK_REASON_REQUIRED",
    "TASK_TRANSITIONS",
    "TERMINAL_STATES",
    "InvalidTransitionError",
    "WorkflowInputError",
    "check_incident_transition",
    "check_task_transition",
]

_S = IncidentState
INCIDENT_TRANSITIONS: Mapping[IncidentState, frozenset[IncidentState]] = {
    _S.NEW: frozenset({_S.ACKNOWLEDGED, _S.FALSE_ALARM}),
    _S.ACKNOWLEDGED: frozenset({_S.ASSESSING, _S.RESPONDING, _S.FALSE_ALARM}),
    _S.ASSESSING: frozenset({_S.RESPONDING, _S.RESOLVED, _S.FALSE_ALARM}),
    _S.RESPONDING: frozenset({_S.RESOLVED, _S.FALSE_ALARM}),
    _S.RESOLVED: frozenset(),
    _S.FALSE_ALARM: frozenset(),
}
"""Incident state -> the states it may move to next (besides a commander's reopen of a terminal one)."""

TERMINAL_STATES = frozenset(state for state, nexts in INCIDENT_TRANSITIONS.items() if not nexts)
"""``resolved`` and ``false_alarm``."""
REASON_REQUIRED = TERMINAL_STATES
"""States that need a reason to be entered (closing an incident is always explained)."""
REOPEN_STATE = IncidentState.ASSESSING
"""Where a reopened incident goes."""
REOPEN_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})
"""Roles that may reopen a terminal incident."""

TASK_TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.ACKNOWLEDGED, TaskState.DECLINED, TaskState.CANCELLED}),
    TaskState.ACKNOWLEDGED: frozenset(
        {TaskState.IN_PROGRESS, TaskState.DONE, TaskState.DECLINED, TaskState.CANCELLED}
    ),
    TaskState.IN_PROGRESS: frozenset(
        {TaskState.IN_PROGRESS, TaskState.DONE, TaskState.DECLINED, TaskState.CANCELLED}
    ),
    TaskState.DONE: frozenset(),
    TaskState.DECLINED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}
"""Task state -> the states it may move to next."""
CLOSED_TASK_STATES = frozenset(state for state, nexts in TASK_TRANSITIONS.items() if not nexts)
"""``done``, ``declined`` and ``cancelled``: never escalated, never changed again."""
TASK_REASON_REQUIRED = frozenset({TaskState.DECLINED, TaskState.IN_PROGRESS})
"""Task states entered only with a text: why it is declined, what progress is reported."""


class WorkflowInputError(HubError):
    """A workflow request is malformed or incomplete (a missing reason, an unknown user...): HTTP 422."""


class InvalidTransitionError(ConflictError):
    """A state change the transition table refuses; names the current, requested and allowed states."""

    def __init__(
        self, subject: str, current: StrEnum, requested: StrEnum, allowed: Iterable[StrEnum], hint: str = ""
    ) -> None:
        self.subject = subject
        self.current = current.value
        self.requested = requested.value
        self.allowed = tuple(sorted(state.value for state in allowed))
        listed = ", ".join(self.allowed) if self.allowed else f"none, {self.current} is final"
        message = f"{subject} is {self.current}; it cannot go to {self.requested} (allowed: {listed})"
        super().__init__(f"{message}; {hint}" if hint else message)


def check_incident_transition(subject: str, current: IncidentState, requested: IncidentState) -> None:
    """Raise InvalidTransitionError unless ``current -> requested`` is in :data:`INCIDENT_TRANSITIONS`."""
    allowed = INCIDENT_TRANSITIONS[current]
    if requested in allowed:
        return
    hint = ""
    if current in TERMINAL_STATES:
        hint = f"a commander may reopen it to {REOPEN_STATE.value}"
    elif requested is current:
        hint = f"it already is {current.value}"
    raise InvalidTransitionError(subject, current, requested, allowed, hint)


def check_task_transition(subject: str, current: TaskState, requested: TaskState) -> None:
    """Raise InvalidTransitionError unless ``current -> requested`` is in :data:`TASK_TRANSITIONS`."""
    allowed = TASK_TRANSITIONS[current]
    if requested not in allowed:
        hint = f"it already is {current.value}" if requested is current else ""
        raise InvalidTransitionError(subject, current, requested, allowed, hint)
