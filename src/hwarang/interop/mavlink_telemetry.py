"""Own drones and ground robots: MAVLink telemetry (HEARTBEAT, GLOBAL_POSITION_INT) as friendly reports.

Read with ``pymavlink`` from a telemetry log (``.tlog``: each frame after an 8-byte big-endian
microsecond time stamp, as ground stations and simulators write them) or from a live link such as
``udpin:127.0.0.1:14550``. Each vehicle is its MAVLink system id: track ``sys<id>``, always
``friendly``. HEARTBEAT says what the vehicle is (``quadrotor``, ``ground_rover``, ...);
GLOBAL_POSITION_INT where it is:

- ``lat``/``lon`` degE7; ``alt`` mm above MSL; ``relative_alt`` mm above home;
- ``vx``/``vy``/``vz`` cm/s north/east/down (speed = |(vx, vy)|, climb = -vz);
- ``hdg`` cdeg, 65535 unknown (then the course of the velocity, when moving).
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hwarang.domain import DroneReport, DroneSource
from hwarang.interop.errors import InteropError

__all__ = ["GROUND_TYPES", "MavlinkError", "MavlinkTelemetry", "read_tlog"]

UNKNOWN_HEADING = 65535
GROUND_TYPES = frozenset({"ground_rover", "surface_boat", "submarine"})
"""MAV_TYPEs of vehicles that do not fly (ground robots, boats)."""
_TYPES = ["HEARTBEAT", "GLOBAL_POSITION_INT"]


class MavlinkError(InteropError):
    """A telemetry log or link cannot be read."""


def _mav_type_name(value: int) -> str:
    from pymavlink.dialects.v20 import common

    entry = common.enums["MAV_TYPE"].get(value)
    name = entry.name if entry is not None else f"MAV_TYPE_{value}"
    return str(name).removeprefix("MAV_TYPE_").lower()


class MavlinkTelemetry:
    """Turns MAVLink messages into friendly reports, remembering each system's HEARTBEAT type."""

    def __init__(self, *, receiver_id: str | None = None) -> None:
        self.receiver_id = receiver_id
        self.vehicle_types: dict[int, str] = {}
        self.ignored = 0

    def feed(self, message: Any, at: datetime | None = None) -> DroneReport | None:
        """The report of a GLOBAL_POSITION_INT (None for HEARTBEAT and anything else).

        ``at`` defaults to the message's own receive time (``_timestamp``: the log's time stamp).
        """
        kind = message.get_type()
        system = int(message.get_srcSystem())
        if kind == "HEARTBEAT":
            self.vehicle_types[system] = _mav_type_name(int(message.type))
            return None
        if kind != "GLOBAL_POSITION_INT":
            self.ignored += 1
            return None
        lat, lon = message.lat / 1e7, message.lon / 1e7
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or (lat == 0.0 and lon == 0.0):
            self.ignored += 1  # no fix yet
            return None
        when = at or datetime.fromtimestamp(float(getattr(message, "_timestamp", 0.0)), UTC)
        vx, vy, vz = message.vx / 100.0, message.vy / 100.0, message.vz / 100.0
        speed = math.hypot(vx, vy)
        if message.hdg != UNKNOWN_HEADING:
            heading: float | None = (message.hdg / 100.0) % 360.0
        elif speed > 0.1:
            heading = math.degrees(math.atan2(vy, vx)) % 360.0
        else:
            heading = None
        return DroneReport(
            source=DroneSource.MAVLINK,
            track_id=f"sys{system}",
            friendly=True,
            lat=lat,
            lon=lon,
            alt_m=message.alt / 1000.0,
            height_m=message.relative_alt / 1000.0,
            speed_ms=speed,
            heading_deg=heading,
            vert_speed_ms=-vz,
            time=when,
            ua_type=self.vehicle_types.get(system),
            receiver_id=self.receiver_id,
        )

    def read(self, connection: Any, *, live: bool = False) -> Iterator[DroneReport]:
        """Reports from a pymavlink connection until it runs dry (a log) or forever (``live``)."""
        while True:
            message = connection.recv_match(type=_TYPES, blocking=live, timeout=1.0 if live else None)
            if message is None:
                if live:
                    continue
                return
            report = self.feed(message, datetime.now(UTC) if live else None)
            if report is not None:
                yield report


def read_tlog(path: Path, *, receiver_id: str | None = None) -> list[DroneReport]:
    """Every friendly report of a telemetry log, in file order (MavlinkError when unreadable)."""
    from pymavlink import mavutil

    if not path.is_file():
        raise MavlinkError(f"{path}: no such telemetry log")
    try:
        connection = mavutil.mavlink_connection(str(path), notimestamps=False)
    except (OSError, ValueError) as exc:
        raise MavlinkError(f"{path}: cannot open telemetry log: {exc}") from exc
    try:
        return list(MavlinkTelemetry(receiver_id=receiver_id).read(connection))
    finally:
        connection.close()
