"""Simulated people working the hub's workflow: control-center operators and agency liaisons.

Every action is scheduled at a simulated time and run in time order through the hub's real
workflow (the workflow clock is set to the action's time first), so the rows it leaves are exactly
those a person using the API would leave.
"""

import functools
import heapq
import itertools
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from hwarang.domain import AgencyKind, IncidentState, Role, TaskState, User
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.plan import PlannedInject
from hwarang.hub.errors import HubError
from hwarang.hub.service import HubService

if TYPE_CHECKING:
    from hwarang.exercise.simulate import OperatorProfile

logger = logging.getLogger(__name__)

TASK_DUE_S = 1800.0
"""Simulated tasks are due this long after they are given."""


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    run: Callable[[], object] = field(compare=False)


@dataclass(slots=True)
class ActionCounts:
    """What the simulated people did."""

    actions: int = 0
    failed: int = 0
    escalated: int = 0


class SimulatedPeople:
    """Schedules and performs the responses of operators and agencies."""

    def __init__(
        self,
        service: HubService,
        clock: ManualClock,
        profile: "OperatorProfile",
        rng: np.random.Generator,
        agency_for: Callable[[AgencyKind, PlannedInject], str],
    ) -> None:
        self._service = service
        self._clock = clock
        self._profile = profile
        self._rng = rng
        self._agency_for = agency_for
        self._queue: list[_Action] = []
        self._seq = itertools.count()
        self.counts = ActionCounts()

    def _at(self, when: datetime, run: Callable[[], object]) -> None:
        heapq.heappush(self._queue, _Action(when, next(self._seq), run))

    def _chance(self, rate: float) -> bool:
        return bool(self._rng.random() < rate)

    def _later(self, when: datetime, seconds: float) -> datetime:
        return when + timedelta(seconds=max(seconds, 1.0))

    def respond(
        self, inject: PlannedInject, incident_id: uuid.UUID, detected: datetime, factor: float
    ) -> None:
        """Schedule an operator's (and the agencies') response to the incident of an inject."""
        profile, operator = self._profile, f"op-{inject.local_government_code}"
        if self._chance(profile.ignore_rate):
            return
        workflow = self._service.workflow
        acknowledged = self._later(detected, profile.acknowledge.sample(self._rng, factor))
        if self._chance(profile.dismiss_rate):
            dismiss = IncidentState.FALSE_ALARM
            self._at(
                acknowledged, lambda: workflow.transition(incident_id, dismiss, operator, "no threat seen")
            )
            return
        self._at(acknowledged, lambda: workflow.transition(incident_id, IncidentState.ACKNOWLEDGED, operator))
        when, last_done, tasked = acknowledged, acknowledged, False
        for requirement in inject.expected.agencies:
            if requirement.kind is None or self._chance(profile.skip_agency_rate):
                continue
            when = self._later(when, profile.task.sample(self._rng, factor))
            if not tasked:
                self._at(when, lambda: workflow.transition(incident_id, IncidentState.RESPONDING, operator))
                tasked = True
            code = self._agency_for(requirement.kind, inject)
            last_done = max(last_done, self._task(incident_id, code, when, operator, inject.title))
        if not tasked:
            assessing = self._later(acknowledged, 1.0)
            self._at(assessing, lambda: workflow.transition(incident_id, IncidentState.ASSESSING, operator))
        resolved = self._later(last_done, profile.resolve.sample(self._rng, factor))
        self._at(resolved, lambda: workflow.transition(incident_id, IncidentState.RESOLVED, operator, "over"))

    def _task(self, incident_id: uuid.UUID, code: str, when: datetime, operator: str, title: str) -> datetime:
        profile, tasks = self._profile, self._service.workflow.tasks
        liaison = User(
            username=f"liaison-{code}", display_name=code, agency_code=code, roles=(Role.AGENCY_LIAISON,)
        )
        task_ids: list[uuid.UUID] = []

        def give() -> None:
            due = when + timedelta(seconds=TASK_DUE_S)
            task_ids.append(tasks.create_task(incident_id, code, f"대응: {title}"[:256], due, operator).id)

        def move(state: TaskState) -> None:
            if task_ids:
                tasks.update_task_state(task_ids[0], state, liaison)

        acknowledged = self._later(when, profile.agency_acknowledge.sample(self._rng))
        done = self._later(acknowledged, profile.agency_done.sample(self._rng))
        self._at(when, give)
        self._at(acknowledged, lambda: move(TaskState.ACKNOWLEDGED))
        self._at(done, lambda: move(TaskState.DONE))
        return done

    def close_false_alarm(
        self, incident_id: uuid.UUID, operator: str, first_seen: datetime, factor: float
    ) -> None:
        """Schedule an operator closing a spurious detection as a false alarm."""
        closed = self._later(first_seen, self._profile.false_alarm_close.sample(self._rng, factor))
        workflow = self._service.workflow
        dismiss = IncidentState.FALSE_ALARM
        self._at(closed, lambda: workflow.transition(incident_id, dismiss, operator, "nothing there"))

    def escalate_every(self, start: datetime, end: datetime, every_s: float) -> None:
        """Schedule the hub's overdue-task escalation every ``every_s`` until ``end``."""
        steps = math.ceil((end - start).total_seconds() / every_s)
        for step in range(1, steps + 1):
            when = start + timedelta(seconds=step * every_s)
            self._at(when, functools.partial(self._escalate, when))

    def _escalate(self, when: datetime) -> None:
        self.counts.escalated += len(self._service.workflow.tasks.escalate_overdue(when))

    def run(self) -> ActionCounts:
        """Perform every scheduled action in time order (a failed action is counted, not fatal)."""
        while self._queue:
            action = heapq.heappop(self._queue)
            self._clock.set(action.at)
            self.counts.actions += 1
            try:
                action.run()
            except HubError as exc:
                self.counts.failed += 1
                logger.debug("simulated action at %s failed: %s", action.at.isoformat(), exc)
        return self.counts
