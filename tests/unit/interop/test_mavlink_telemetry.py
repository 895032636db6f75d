"""MAVLink telemetry of own units becomes friendly reports (logs written with pymavlink's own encoder)."""

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import common as mavlink

from hwarang.domain import DroneSource
from hwarang.interop.mavlink_telemetry import MavlinkError, read_tlog

T0 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


def _frame(message: mavlink.MAVLink_message, system: int, at_s: float) -> bytes:
    encoder = mavlink.MAVLink(None, srcSystem=system, srcComponent=1)
    stamp = int((T0.timestamp() + at_s) * 1_000_000)
    return struct.pack(">Q", stamp) + bytes(message.pack(encoder))


def _heartbeat(mav_type: int) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_heartbeat_message(
        mav_type, mavlink.MAV_AUTOPILOT_PX4, 0, 0, mavlink.MAV_STATE_ACTIVE, 3
    )


def _position(
    lat: float, lon: float, *, vx: int = 300, vy: int = 400, hdg: int = 9000
) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_global_position_int_message(
        1000, round(lat * 1e7), round(lon * 1e7), 120_500, 95_250, vx, vy, -150, hdg
    )


def test_a_simulator_log_gives_friendly_drone_and_robot_reports(tmp_path: Path) -> None:
    log = tmp_path / "flight.tlog"
    log.write_bytes(
        _frame(_heartbeat(mavlink.MAV_TYPE_QUADROTOR), 7, 0.0)
        + _frame(_position(37.5601, 126.8001), 7, 0.5)
        + _frame(_heartbeat(mavlink.MAV_TYPE_GROUND_ROVER), 12, 0.6)
        + _frame(_position(37.5500, 126.8100, vx=0, vy=0, hdg=65535), 12, 0.7)
        + _frame(_position(37.5602, 126.8002, hdg=65535), 7, 1.5)
    )
    reports = read_tlog(log)
    assert [(r.track_id, r.ua_type) for r in reports] == [
        ("sys7", "quadrotor"),
        ("sys12", "ground_rover"),
        ("sys7", "quadrotor"),
    ]
    first = reports[0]
    assert first.source is DroneSource.MAVLINK and first.friendly and first.key == "mavlink:sys7"
    assert first.lat == pytest.approx(37.5601) and first.lon == pytest.approx(126.8001)
    assert first.alt_m == pytest.approx(120.5) and first.height_m == pytest.approx(95.25)
    assert first.speed_ms == pytest.approx(5.0)  # |(3, 4)| m/s
    assert first.heading_deg == pytest.approx(90.0)
    assert first.vert_speed_ms == pytest.approx(1.5)  # vz is down-positive
    assert first.time == datetime(2026, 11, 24, 1, 0, 0, 500_000, tzinfo=UTC)
    assert reports[1].heading_deg is None and reports[1].speed_ms == 0.0
    # without hdg the course of the velocity: north 3, east 4 -> atan2(4, 3)
    assert reports[2].heading_deg == pytest.approx(53.13, abs=0.01)


def test_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MavlinkError, match="no such telemetry log"):
        read_tlog(tmp_path / "absent.tlog")


def test_positions_without_a_fix_are_skipped(tmp_path: Path) -> None:
    log = tmp_path / "nofix.tlog"
    log.write_bytes(_frame(_position(0.0, 0.0), 3, 0.0))
    assert read_tlog(log) == []
