"""Camera changes over a real NATS server: the hub stores and sends a version, the running edge
applies its new rule between frames and answers, the hub records the answer (issue #17, item 5)."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hwarang.bus.config import NatsBusConfig, build_bus
from hwarang.bus.server import NatsServerProcess
from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.commands import consuming_commands
from hwarang.edge.config import EdgeConfig
from hwarang.edge.node import EdgeNode
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.camera_config import CameraConfigService
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.runtime.camera_admin import camera_admin

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

CENTER, CAMERA = "goseong-cc", "gos-fence-01"
EDGE = EdgeConfig.model_validate(
    {
        "analytics_workers": 1,
        "centers": [
            {
                "id": CENTER,
                "name": "고성군 통합관제센터",
                "sido_code": "51",
                "sigungu_code": "51820",
                "cameras": [
                    {
                        "id": CAMERA,
                        "name": "fence",
                        "position": {"lat": 38.38, "lon": 128.47},
                        "sido_code": "51",
                        "sigungu_code": "51820",
                        "source": {"type": "synthetic", "width": 960, "height": 540, "fps": 10, "figures": 3},
                        "detector": {"type": "motion"},
                    }
                ],
            }
        ],
    }
)


def _no_lookup(_lat: float, _lon: float) -> AdminLocation | None:
    return None


async def _until(condition: Callable[[], bool], timeout_s: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "condition not met in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_running_edge_picks_up_a_new_rule_sent_over_nats(
    nats_server: NatsServerProcess, tmp_path: Path
) -> None:
    hub_bus = await build_bus(NatsBusConfig(type="nats", servers=[nats_server.client_url], name="hub"))
    edge_bus = await build_bus(
        NatsBusConfig(type="nats", servers=[nats_server.client_url], name="edge", manage_streams="none")
    )
    database = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    database.migrate()
    service = HubService(database, EvidenceStore(tmp_path / "evidence"))
    events: list[EventMessage] = []
    node = EdgeNode(EDGE, events.append, _no_lookup)
    for camera in node.cameras:
        service.cameras.upsert(camera)
    node.start()
    try:
        async with (
            consuming_commands(edge_bus, node, [CENTER]) as consumer,
            camera_admin(service, EDGE, hub_bus) as (admin, answers),
        ):
            await _until(lambda: node.health()[0].frames_processed > 3, 20)
            current = admin.current(CAMERA)
            assert current is not None and current.version == 0
            zone = {
                "type": "zone_intrusion",
                "name": "drawn",
                "polygon": [[0, 0], [960, 0], [960, 540], [0, 540]],
            }
            config = admin.check({**current.config, "rules": [zone]})

            saved = await admin.change(current, config, "admin")
            applied_s = await _until(lambda: _answer(admin, CAMERA) == "applied", 10)
            event_s = await _until(lambda: any(m.event.rule_name == "drawn" for m in list(events)), 10)

            assert saved.version == 1
            assert (consumer.stats.applied, answers.recorded) == (1, 1)
            latest = admin.store.latest(CAMERA)
            assert latest is not None and latest.edge is not None and latest.edge.how == "rules"
            assert node.health()[0].config_version == 1
            print(f"over NATS: answer recorded after {applied_s:.2f} s, first event after {event_s:.2f} s")
    finally:
        await asyncio.to_thread(node.stop)
        await edge_bus.close()
        await hub_bus.close()
        database.close()


def _answer(admin: CameraConfigService, camera_id: str) -> str | None:
    latest = admin.store.latest(camera_id)
    return None if latest is None or latest.edge is None else latest.edge.status
