"""Merge the OpenDroneID messages of one sender into snapshots of what is known about its aircraft.

A broadcaster sends Basic ID, Location, System, Self-ID and Operator ID at different rates; the
:class:`RemoteIdAssembler` keeps the latest of each per sender key (a MAC or UDP address, or a UAS ID)
and returns a :class:`RemoteIdState` every time a Location arrives, known ID or not.
"""

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hwarang.interop.opendroneid_messages import (
    BasicId,
    LocationVector,
    MessagePack,
    OdidMessage,
    OperatorId,
    SelfId,
    SingleMessage,
    SystemMessage,
)

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteIdState:
    """What one sender's broadcasts say about its aircraft at the time of a Location report.

    ``timestamp`` is the report's tenths-of-hour time stamp placed in the hour nearest ``received_at``
    (``timestamp_known`` is false and ``timestamp`` equals ``received_at`` when the sender gave none).
    Fields never broadcast so far are ``None``.
    """

    sender: str
    received_at: datetime
    timestamp: datetime
    timestamp_known: bool
    uas_id: str | None = None
    id_type: int | None = None
    ua_type: int | None = None
    status: int = 0
    lat: float | None = None
    lon: float | None = None
    alt_geo_m: float | None = None
    alt_baro_m: float | None = None
    height_m: float | None = None
    height_type: int = 0
    speed_ms: float | None = None
    direction_deg: float | None = None
    vert_speed_ms: float | None = None
    horizontal_accuracy_m: float | None = None
    operator_lat: float | None = None
    operator_lon: float | None = None
    operator_alt_m: float | None = None
    operator_location_type: int | None = None
    operator_id: str | None = None
    self_id: str | None = None
    classification: str | None = None


@dataclass(slots=True)
class _SenderRecord:
    basic_ids: list[BasicId] = field(default_factory=list)
    system: SystemMessage | None = None
    self_id: SelfId | None = None
    operator_id: OperatorId | None = None


class RemoteIdAssembler:
    """Per-sender memory of the static messages; at most ``max_senders`` kept (least recently heard go)."""

    def __init__(self, *, max_senders: int = 10_000) -> None:
        if max_senders < 1:
            raise ValueError(f"max_senders must be >= 1, got {max_senders}")
        self._max_senders = max_senders
        self._senders: OrderedDict[str, _SenderRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self._senders)

    def feed(self, sender: str, message: OdidMessage, received_at: datetime) -> list[RemoteIdState]:
        """Absorb one message (a pack counts as its messages, static ones first) and return new states."""
        return self.feed_many(sender, [message], received_at)

    def feed_many(
        self, sender: str, messages: Iterable[OdidMessage], received_at: datetime
    ) -> list[RemoteIdState]:
        """Absorb messages received together; static messages apply before the Locations among them."""
        record = self._record(sender)
        singles: list[SingleMessage] = []
        for message in messages:
            singles.extend(message.messages if isinstance(message, MessagePack) else [message])
        for single in singles:
            _absorb(record, single)
        return [
            _state(sender, record, single, received_at)
            for single in singles
            if isinstance(single, LocationVector)
        ]

    def forget(self, sender: str) -> None:
        """Drop everything known about ``sender``."""
        self._senders.pop(sender, None)

    def _record(self, sender: str) -> _SenderRecord:
        record = self._senders.pop(sender, None) or _SenderRecord()
        self._senders[sender] = record
        while len(self._senders) > self._max_senders:
            self._senders.popitem(last=False)
        return record


def resolve_hour_timestamp(seconds_after_hour: float, received_at: datetime) -> datetime:
    """The instant ``seconds_after_hour`` after some full hour that lies nearest ``received_at``."""
    hour = received_at.replace(minute=0, second=0, microsecond=0)
    candidate = hour + timedelta(seconds=seconds_after_hour)
    return min((candidate - _HOUR, candidate, candidate + _HOUR), key=lambda t: abs(t - received_at))


def _absorb(record: _SenderRecord, message: SingleMessage) -> None:
    if isinstance(message, BasicId):
        # Up to two Basic IDs (of different id types) may be broadcast; keep the latest of each type.
        others = [b for b in record.basic_ids if b.id_type != message.id_type]
        record.basic_ids = [*others[-1:], message]
    elif isinstance(message, SystemMessage):
        record.system = message
    elif isinstance(message, SelfId):
        record.self_id = message
    elif isinstance(message, OperatorId):
        record.operator_id = message


def _primary_basic_id(record: _SenderRecord) -> BasicId | None:
    with_id = [b for b in record.basic_ids if b.uas_id]
    if not with_id:
        return record.basic_ids[-1] if record.basic_ids else None
    return min(with_id, key=lambda b: b.id_type)  # serial number before registration, UUID, session


def _state(sender: str, record: _SenderRecord, loc: LocationVector, received_at: datetime) -> RemoteIdState:
    basic = _primary_basic_id(record)
    system = record.system
    timestamp = received_at
    if loc.timestamp_s is not None:
        timestamp = resolve_hour_timestamp(loc.timestamp_s, received_at)
    return RemoteIdState(
        sender=sender,
        received_at=received_at,
        timestamp=timestamp,
        timestamp_known=loc.timestamp_s is not None,
        uas_id=(basic.uas_id or None) if basic else None,
        id_type=basic.id_type if basic else None,
        ua_type=basic.ua_type if basic else None,
        status=loc.status,
        lat=loc.lat,
        lon=loc.lon,
        alt_geo_m=loc.alt_geo_m,
        alt_baro_m=loc.alt_baro_m,
        height_m=loc.height_m,
        height_type=loc.height_type,
        speed_ms=loc.speed_ms,
        direction_deg=loc.direction_deg,
        vert_speed_ms=loc.vert_speed_ms,
        horizontal_accuracy_m=loc.horizontal_accuracy_m,
        operator_lat=system.operator_lat if system else None,
        operator_lon=system.operator_lon if system else None,
        operator_alt_m=system.operator_alt_m if system else None,
        operator_location_type=system.operator_location_type if system else None,
        operator_id=(record.operator_id.operator_id or None) if record.operator_id else None,
        self_id=(record.self_id.description or None) if record.self_id else None,
        classification=system.classification if system else None,
    )
