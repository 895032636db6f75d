"""Issue #8's proof: a replayed Remote ID flight over real loopback UDP raises the geofence event in < 1 s.

The flight (generated OpenDroneID message packs) goes datagram by datagram to the hub's own UDP
intake as ``hwarang hub`` runs it (:func:`hwarang.runtime.drones.run_drones`: receiver -> queue ->
DroneHub -> ingest). The clock starts when the datagram of the first report inside the site leaves
the sender and stops when the hub tells its listeners about the stored incident of that event.
"""

import asyncio
import time
from datetime import UTC, datetime

import pytest

from hwarang.bus.memory import MemoryBus
from hwarang.bus.subjects import DRONES_ALL
from hwarang.config.models import HubDroneConfig, RemoteIdUdpIntakeConfig
from hwarang.domain import DroneReport, Incident, ObjectClass, RuleKind
from hwarang.domain.drone import DroneAlertKind
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.interop.opendroneid import LocationVector, decode_stream, flatten
from hwarang.runtime.drones import run_drones
from tests.drone_support import OPERATOR, UAS_ID, flight_into_site, register_cameras, site_fences
from tests.hub_support import FAST_HASHER

pytestmark = pytest.mark.integration

SEND_INTERVAL_S = 0.05  # the 1 Hz flight replayed 20 times faster; latency is measured per datagram
LATENCY_LIMIT_S = 1.0


class _Sender(asyncio.DatagramProtocol):
    pass


def _entering_index(packs: list[bytes]) -> int:
    fences = site_fences()
    for index, pack in enumerate(packs):
        for message in flatten(decode_stream(pack)):
            if isinstance(message, LocationVector) and fences.containing(
                message.lat or 0.0, message.lon or 0.0, message.alt_geo_m, message.height_m
            ):
                return index
    raise AssertionError("the flight never enters the site")


async def test_replayed_flight_raises_the_geofence_event_within_one_second(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    service = HubService(
        sqlite_db, evidence, password_hasher=FAST_HASHER, drones=HubDroneConfig(), fences=site_fences()
    )
    register_cameras(service)
    drones = service.drones
    seen: list[tuple[float, Incident]] = []
    service.journal.add_listener(lambda incident: seen.append((time.perf_counter(), incident)))
    packs = [pack for _, pack in flight_into_site(datetime.now(UTC))]
    entering = _entering_index(packs)
    assert 5 < entering < len(packs) - 5  # it starts outside and flies well inside

    bus = MemoryBus()
    config = HubDroneConfig(remote_id_udp=RemoteIdUdpIntakeConfig(enabled=True, port=0))
    async with run_drones(config, service, bus) as probes:
        port = probes["drones"]()["remote_id_udp"]["port"]  # type: ignore[index]
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            _Sender, remote_addr=("127.0.0.1", port)
        )
        sent: list[float] = []
        try:
            for pack in packs:
                sent.append(time.perf_counter())
                transport.sendto(pack)
                await asyncio.sleep(SEND_INTERVAL_S)
        finally:
            transport.close()
        async with asyncio.timeout(5.0):
            while len(drones.tracks()) == 0 or drones.tracks()[0].reports < len(packs):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        stats = probes["drones"]()

    assert stats["remote_id_udp"]["applied"] == len(packs)  # type: ignore[index]
    assert stats["remote_id_udp"]["dropped"] == 0  # type: ignore[index]
    geofence = [
        (at, i)
        for at, i in seen
        if i.object_class is ObjectClass.AIRCRAFT and i.rule is RuleKind.ZONE_INTRUSION
    ]
    assert len(geofence) == 1, "one geofence event per stay"
    stored_at, incident = geofence[0]
    latency = stored_at - sent[entering]
    print(f"geofence event stored {latency * 1000:.1f} ms after the entering datagram was sent")
    assert stored_at > sent[entering], "raised before the entering report was sent"
    assert latency < LATENCY_LIMIT_S

    event = service.incidents.event(incident.event_ids[0])
    assert event is not None and event.rule_name == "geofence:test-plant"
    [alert] = drones.alerts(event_id=event.id)
    assert alert.kind is DroneAlertKind.GEOFENCE_ENTER and alert.incident_id == incident.id
    assert alert.uas_id == UAS_ID
    assert alert.operator is not None
    assert alert.operator.lat == pytest.approx(OPERATOR.lat, abs=1e-6)
    assert alert.operator.lon == pytest.approx(OPERATOR.lon, abs=1e-6)
    assert "operator at" in alert.description
    assert [c.camera_id for c in alert.cameras] == ["cam-100", "cam-250", "cam-600"]
    assert incident.camera_id == "cam-100"  # the event is on the nearest camera
    kinds = [a.kind for a in drones.alerts()]
    assert kinds == [DroneAlertKind.GEOFENCE_LEAVE, DroneAlertKind.GEOFENCE_ENTER]  # it flew out again

    subscription = await bus.subscribe(DRONES_ALL, durable="test-drones")
    deliveries = await subscription.fetch(batch=1000, timeout_s=1.0)
    reports = [DroneReport.model_validate_json(d.data) for d in deliveries]
    assert len(reports) == len(packs) and {d.subject for d in deliveries} == {
        f"hwarang.drones.remote_id.{UAS_ID}"
    }
    await bus.close()
