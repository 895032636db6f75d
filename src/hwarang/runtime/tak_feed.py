"""The hub's TAK stream: it follows one partner agency's need-to-know (what its liaison could export)."""

import logging

from hwarang.config.models import TakFeedConfig
from hwarang.domain import Incident, Role, User
from hwarang.hub.service import HubService
from hwarang.hub.sharing.policy import Action
from hwarang.interop.tak_stream import TakStreamServer
from hwarang.runtime.tak_intake import TakIntake

logger = logging.getLogger(__name__)

FEED_ACTOR_PREFIX = "tak-feed."


def feed_user(service: HubService, config: TakFeedConfig) -> User:
    """The pseudo user whose rights the feed has: a liaison of ``config.agency`` in its jurisdiction.

    ValueError when the agency is not registered (a feed must never default to seeing everything).
    """
    agency = service.identity.agencies.get(config.agency)
    if agency is None:
        raise ValueError(f"tak feed: agency {config.agency!r} is not registered; register it first")
    return User(
        username=f"{FEED_ACTOR_PREFIX}{agency.code}"[:64],
        display_name=f"TAK feed for {agency.name}",
        agency_code=agency.code,
        jurisdiction_code=agency.jurisdiction_code,
        roles=(Role.AGENCY_LIAISON,),
        clearance=config.clearance,
    )


def build_tak_feed(service: HubService, config: TakFeedConfig) -> TakStreamServer:
    """The stream server; each incident it sends is audited as ``interop.export`` by the feed.

    CoT its clients send goes to :class:`TakIntake` (registered uids onto the map, others refused).
    """
    user = feed_user(service, config)

    def accept(incident: Incident) -> bool:
        if incident.exercise and not config.include_exercise:
            return False
        decision = service.sharing.decide(user, Action.INCIDENT_EXPORT, incident)
        if not decision.allowed:
            return False
        detail: dict[str, object] = {"format": f"cot-{config.wire}", "seq": incident.seq}
        if decision.grant_id is not None:
            detail["grant_id"] = str(decision.grant_id)
        service.audit.record(user.username, "interop.export", f"incident:{incident.id}", detail)
        return True

    return TakStreamServer(
        config.host,
        config.port,
        accept=accept,
        queue_size=config.queue_size,
        max_clients=config.max_clients,
        wire=config.wire,
        on_cot=TakIntake(service, config),
    )
