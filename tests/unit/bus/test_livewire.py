"""Live video's subjects and leases: per center, with the hub's viewer count for the edge's health."""

import asyncio

import pytest

from hwarang.bus import BusError
from hwarang.bus.livewire import Lease, MemoryLiveWire, lease_subject, parse_lease, video_subject
from hwarang.bus.subjects import center_live_leases, center_live_video
from hwarang.edge.live_sender import LiveSender
from hwarang.hub.evidence.live_relay import LiveRelay


def test_live_subjects_name_the_center_and_the_camera() -> None:
    assert video_subject("seoul-jung", "cam-01") == "hwarang.live.video.seoul-jung.cam-01"
    assert lease_subject("seoul-jung", "cam-01") == "hwarang.live.lease.seoul-jung.cam-01"
    assert center_live_video("seoul-jung") == "hwarang.live.video.seoul-jung.*"
    assert center_live_leases("seoul-jung") == "hwarang.live.lease.seoul-jung.*"
    with pytest.raises(BusError):
        video_subject("seoul.jung", "cam-01")
    with pytest.raises(BusError):
        lease_subject("seoul-jung", "cam.>")


def test_leases_round_trip_and_ignore_what_they_do_not_know() -> None:
    assert parse_lease(Lease(True, 3).encode()) == Lease(True, 3)
    assert parse_lease(b"start") == Lease(True, 0)
    assert parse_lease(b"") == Lease(False, 0)
    assert parse_lease(b"viewers=x future=1 viewers=2") == Lease(False, 2)
    assert parse_lease(b"viewers=99999999") == Lease(False, 0)


async def test_the_relay_leases_the_camera_of_its_center_and_tells_the_edge_its_viewers() -> None:
    wire = MemoryLiveWire()
    now = [0.0]
    sender = LiveSender("cam-01", wire, 10.0, center_id="busan-cc", clock=lambda: now[0])
    relay = LiveRelay(wire, renew_s=0.01, center_of={"cam-01": "busan-cc"}.get)
    first = relay.join("cam-01")
    second = relay.join("cam-01", center="busan-cc")
    for _ in range(100):  # bounded: until a renewal counted both viewers
        await asyncio.sleep(0.01)
        if sender.viewers == 2:
            break
    assert sender.leased and sender.viewers == 2
    assert sender.stats()["viewers"] == 2
    with pytest.raises(LookupError):
        relay.join("cam-unknown")
    relay.leave(first)
    relay.leave(second)
    now[0] += 10.0  # the lease lapsed
    assert not sender.leased and sender.viewers == 0
    assert relay.stats()["cam-01"]["views"] == 2
    sender.close()
