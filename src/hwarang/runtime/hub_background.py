"""What runs beside the hub's ingest loop: task escalation, partner TAK feeds, the store monitor."""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

from hwarang.config.models import AppConfig
from hwarang.hub.evidence.checkpoints import AuditCheckpointer, CheckpointFile
from hwarang.hub.service import HubService
from hwarang.hub.store.monitor import StoreMonitor
from hwarang.hub.workflow.escalation import EscalationLoop
from hwarang.interop.tak_stream import TakStreamServer
from hwarang.runtime.tak_feed import build_tak_feed

logger = logging.getLogger(__name__)

HealthProbes = dict[str, Callable[[], object]]
DISK_CHECK_INTERVAL_S = 5.0


@contextlib.asynccontextmanager
async def hub_background(config: AppConfig, service: HubService) -> AsyncIterator[HealthProbes]:
    """Start escalation and the configured TAK feeds; yield their health probes; stop them on exit.

    A feed whose agency is not registered or whose port is taken fails the start with a clear error.
    The store is checked (``PRAGMA quick_check``, free space) before anything starts, then periodically.
    """
    monitor = StoreMonitor(
        service.database,
        config.hub.data_dir,
        service.health,
        min_free_bytes=int(config.hub.min_free_mb * 2**20),
    )
    await asyncio.to_thread(monitor.check_integrity)
    await asyncio.to_thread(monitor.check_disk)
    checkpointer = AuditCheckpointer(service.database, CheckpointFile(config.hub.data_dir))
    stop_monitor = asyncio.Event()
    watching = asyncio.create_task(
        watch_store(monitor, checkpointer, config.hub.integrity_check_interval_s, stop_monitor),
        name="store-monitor",
    )
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
        stop_monitor.set()
        await watching
        for _agency, feed in feeds:
            await feed.stop()
        await asyncio.to_thread(escalation.stop)


async def watch_store(
    monitor: StoreMonitor,
    checkpointer: AuditCheckpointer,
    integrity_interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Until ``stop``: every few seconds check free space and checkpoint the audit head (once more
    at stop); every ``integrity_interval_s`` run the integrity check. A failing step is logged."""
    loop = asyncio.get_running_loop()
    next_integrity = loop.time() + integrity_interval_s
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=DISK_CHECK_INTERVAL_S)
        steps: list[Callable[[], object]] = [checkpointer.checkpoint]
        if not stop.is_set():
            steps.insert(0, monitor.check_disk)
            if loop.time() >= next_integrity:
                next_integrity = loop.time() + integrity_interval_s
                steps.append(monitor.check_integrity)
        for step in steps:
            try:
                await asyncio.to_thread(step)
            except Exception as exc:  # a stage's top loop: log and carry on
                logger.warning("store monitor: %s failed: %s", getattr(step, "__name__", step), exc)
