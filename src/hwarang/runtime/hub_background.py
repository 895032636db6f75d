"""What runs beside the hub's ingest loop: task escalation and the partner TAK feeds."""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

from hwarang.config.models import AppConfig
from hwarang.hub.service import HubService
from hwarang.hub.workflow.escalation import EscalationLoop
from hwarang.interop.tak_stream import TakStreamServer
from hwarang.runtime.tak_feed import build_tak_feed

logger = logging.getLogger(__name__)

HealthProbes = dict[str, Callable[[], object]]


@contextlib.asynccontextmanager
async def hub_background(config: AppConfig, service: HubService) -> AsyncIterator[HealthProbes]:
    """Start escalation and the configured TAK feeds; yield their health probes; stop them on exit.

    A feed whose agency is not registered or whose port is taken fails the start with a clear error.
    """
    escalation = EscalationLoop(
        service.workflow.tasks,
        config.hub.workflow.escalation_interval_s,
        unacknowledged=service.workflow.unacknowledged,
    )
    escalation.start()
    feeds: list[tuple[str, TakStreamServer]] = []
    try:
        for feed_config in config.hub.tak_feeds:
            feed = build_tak_feed(service, feed_config)
            try:
                await feed.start()
            except OSError as exc:
                where = f"{feed_config.host}:{feed_config.port}"
                raise OSError(f"tak feed for {feed_config.agency}: cannot listen on {where}: {exc}") from exc
            service.journal.add_listener(feed.publish)
            feeds.append((feed_config.agency, feed))
            logger.info("TAK feed for %s on %s:%s", feed_config.agency, feed_config.host, feed.port)
        probes: HealthProbes = {
            "escalation": escalation.stats.as_dict,
            "tak_feeds": lambda: {
                agency: {"port": feed.port, **dataclasses.asdict(feed.stats())} for agency, feed in feeds
            },
        }
        yield probes
    finally:
        for _agency, feed in feeds:
            await feed.stop()
        await asyncio.to_thread(escalation.stop)
