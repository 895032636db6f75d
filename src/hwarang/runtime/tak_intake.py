"""CoT in: positions and markers from a partner agency's registered TAK clients onto the map.

A TAK feed's server hands each valid event a client sends to :class:`TakIntake`. Events whose uid
(for a marker: the uid of the client that placed it, ``link relation="p-p"``) is one of the feed's
``registered_uids`` become friendly tracks through the hub's friendly-unit path (the same as own
telemetry: ``DroneHub.apply``; the map's drone layer and its need-to-know rules apply). Anything
else is refused and audited as ``interop.cot.refused``. Storing runs off the server's event loop.
"""

import asyncio
import logging
from collections.abc import Callable

from hwarang.config.models import TakFeedConfig
from hwarang.domain import DroneReport, DroneSource
from hwarang.hub.service import HubService
from hwarang.interop.cot_reader import CotReport

logger = logging.getLogger(__name__)

TRACK_PREFIX = "tak:"
ACTOR_PREFIX = "tak-feed."


def cot_to_drone_report(report: CotReport) -> DroneReport:
    """The friendly-unit report of a registered client's position or marker."""
    return DroneReport(
        source=DroneSource.TAK,
        track_id=f"{TRACK_PREFIX}{report.uid}"[:64],
        friendly=True,
        lat=report.lat,
        lon=report.lon,
        alt_m=report.hae_m,
        time=report.time,
        self_id=(report.callsign or report.uid)[:64],
    )


class TakIntake:
    """Callable ``(report, peer)`` for :class:`hwarang.interop.tak_stream.TakStreamServer`'s ``on_cot``."""

    def __init__(
        self,
        service: HubService,
        config: TakFeedConfig,
        *,
        run: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._service = service
        self._agency = config.agency
        self._registered = frozenset(config.registered_uids)
        self._run = run or _in_executor

    def __call__(self, report: CotReport, peer: str) -> None:
        if report.kind not in ("position", "marker"):
            return
        owner = report.sender_uid if report.kind == "marker" and report.sender_uid else report.uid
        if owner not in self._registered:
            self._run(lambda: self._refuse(report, owner, peer))
            return
        self._run(lambda: self._apply(report))

    def _apply(self, report: CotReport) -> None:
        try:
            self._service.drones.apply([cot_to_drone_report(report)])
        except Exception:  # a stage's top: one event's failure must not stop the feed
            logger.exception("TAK intake (%s): storing CoT %s failed", self._agency, report.uid)

    def _refuse(self, report: CotReport, owner: str, peer: str) -> None:
        detail: dict[str, object] = {
            "uid": report.uid,
            "type": report.type,
            "peer": peer,
            "agency": self._agency,
        }
        if owner != report.uid:
            detail["placed_by"] = owner
        logger.warning("TAK intake (%s): CoT from unregistered %s (%s) refused", self._agency, owner, peer)
        self._service.audit.record(
            f"{ACTOR_PREFIX}{self._agency}", "interop.cot.refused", f"cot:{owner}", detail
        )


def _in_executor(work: Callable[[], None]) -> None:
    try:
        asyncio.get_running_loop().run_in_executor(None, work)
    except RuntimeError:  # not on a loop (tests, tools): run here
        work()
