"""The hub's TAK feeds: started beside ingest, each following one partner agency's need-to-know."""

import asyncio
from pathlib import Path

import pytest
import takproto

from hwarang.config import AppConfig
from hwarang.config.models import HubConfig, TakFeedConfig
from hwarang.domain import Agency, AgencyKind
from hwarang.hub.service import HubService
from hwarang.runtime.hub_background import hub_background
from hwarang.runtime.tak_feed import build_tak_feed
from tests.hub_support import evidence, make_message, new_incident, service, sqlite_db

pytestmark = pytest.mark.integration
__all__ = ["evidence", "service", "sqlite_db"]  # fixtures

AGENCIES = (
    Agency(code="seoul-jung", name="서울 중구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code="11140"),
    Agency(code="seoul-police", name="서울경찰청", kind=AgencyKind.POLICE, jurisdiction_code="11"),
)


@pytest.fixture
def hub(service: HubService) -> HubService:
    service.identity.agencies.upsert(AGENCIES)
    return service


def test_a_feed_sends_only_what_its_agency_may_export(hub: HubService) -> None:
    owner = build_tak_feed(hub, TakFeedConfig(agency="seoul-jung", port=0))
    police = build_tak_feed(hub, TakFeedConfig(agency="seoul-police", port=0))
    incident = new_incident(hub, make_message(track_id=1))
    exercise = new_incident(hub, make_message(track_id=2, exercise=True))
    assert owner._accept(incident) and not owner._accept(exercise)
    assert not police._accept(incident)  # not shared with the police
    exports = [a for a in hub.audit.entries(limit=50) if a.action == "interop.export"]
    assert [(a.actor, a.target) for a in exports] == [("tak-feed.seoul-jung", f"incident:{incident.id}")]


def test_a_feed_for_an_unregistered_agency_is_refused(hub: HubService) -> None:
    with pytest.raises(ValueError, match="agency 'coast-7' is not registered"):
        build_tak_feed(hub, TakFeedConfig(agency="coast-7", port=0))


async def test_hub_background_streams_new_incidents_to_a_tak_client(hub: HubService, tmp_path: Path) -> None:
    config = AppConfig(
        hub=HubConfig(data_dir=tmp_path, tak_feeds=[TakFeedConfig(agency="seoul-jung", port=0)])
    )
    async with hub_background(config, hub) as probes:
        port = probes["tak_feeds"]()["seoul-jung"]["port"]  # type: ignore[index]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.2)  # let the server register the client
        incident = await asyncio.to_thread(new_incident, hub, make_message(track_id=3))
        data = await asyncio.wait_for(reader.readuntil(b"</event>"), timeout=5.0)
        writer.close()
        stats = probes["tak_feeds"]()["seoul-jung"]  # type: ignore[index]
    message = takproto.parse_proto(bytearray(data))
    assert message is not None and message.cotEvent.uid == f"hwarang-incident-{incident.id}"
    assert stats["sent"] >= 1 and "escalation" in probes


def _position(uid: str, lat: float, lon: float, *, marker_of: str | None = None) -> bytes:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    link = f'<link uid="{marker_of}" relation="p-p" type="a-f-G-U-C"/>' if marker_of else ""
    return (
        f'<?xml version="1.0"?><event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" '
        f'time="{now.strftime(stamp)}" start="{now.strftime(stamp)}" '
        f'stale="{(now + timedelta(minutes=5)).strftime(stamp)}">'
        f'<point lat="{lat}" lon="{lon}" hae="30.0" ce="5.0" le="9999999.0"/>'
        f'<detail><contact callsign="{uid}-cs"/>{link}</detail></event>'
    ).encode()


async def test_cot_from_registered_clients_becomes_friendly_tracks_others_are_refused(
    hub: HubService, tmp_path: Path
) -> None:

    feed = TakFeedConfig(agency="seoul-jung", port=0, wire="protobuf", registered_uids=["ANDROID-jung-1"])
    config = AppConfig(hub=HubConfig(data_dir=tmp_path, tak_feeds=[feed]))
    async with hub_background(config, hub) as probes:
        port = probes["tak_feeds"]()["seoul-jung"]["port"]  # type: ignore[index]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_position("ANDROID-jung-1", 37.5636, 126.9976))
        writer.write(_position("marker-1", 37.5640, 126.9980, marker_of="ANDROID-jung-1"))
        writer.write(_position("ANDROID-stranger", 37.5, 126.9))
        await writer.drain()

        def landed() -> bool:
            keys = {t.key for t in hub.drones.tracks()}
            refused = [a for a in hub.audit.entries(50) if a.action == "interop.cot.refused"]
            return (
                any("ANDROID-jung-1" in k for k in keys)
                and any("marker-1" in k for k in keys)
                and bool(refused)
            )

        for _ in range(200):
            if await asyncio.to_thread(landed):
                break
            await asyncio.sleep(0.02)
        writer.close()
    tracks = {t.key: t for t in hub.drones.tracks()}
    own = next(t for k, t in tracks.items() if "ANDROID-jung-1" in k)
    assert own.latest.friendly and own.latest.source.value == "tak"
    assert (own.latest.lat, own.latest.lon) == (37.5636, 126.9976)
    assert not any("stranger" in k for k in tracks)
    refused = [a for a in hub.audit.entries(50) if a.action == "interop.cot.refused"]
    assert [(a.actor, a.target, a.detail["uid"]) for a in refused] == [
        ("tak-feed.seoul-jung", "cot:ANDROID-stranger", "ANDROID-stranger")
    ]
