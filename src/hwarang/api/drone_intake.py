"""Remote ID messages posted to the API: decode per item, assemble per sender, apply to the DroneHub.

Each item of a batch is one receiver's capture (hex or base64 of one message, one Message Pack, or
a concatenation) with its receive time. Items are decoded one by one: a bad message is reported with
the item's index (and the byte offset inside it); the item's good messages and every other item are
still applied. Messages of one sender (the item's ``sender``, else its ``receiver_id``) are merged
across items and across requests, so a Location posted after its Basic ID still names the drone.
"""

import base64
import binascii
import threading
from collections.abc import Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hwarang.domain import DroneAlert, DroneReport
from hwarang.domain.base import SCHEMA_VERSION
from hwarang.domain.drone import PRINTABLE_TEXT
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.drones.tracks import report_from_remote_id
from hwarang.interop.opendroneid import RemoteIdDecodeError, decode_stream, flatten
from hwarang.interop.remote_id_state import RemoteIdAssembler

__all__ = ["ItemError", "RemoteIdBatch", "RemoteIdIntake", "RemoteIdItem", "RemoteIdResult", "intake_for"]

MAX_ITEM_BYTES = 4096


class RemoteIdItem(BaseModel):
    """One receiver capture: the bytes as hex or base64 (exactly one), who heard it, and when."""

    model_config = ConfigDict(extra="forbid")

    receiver_id: str = Field(
        min_length=1, max_length=64, pattern=PRINTABLE_TEXT, description="The receiver that heard it."
    )
    sender: str | None = Field(
        default=None,
        max_length=64,
        description="The broadcaster (e.g. its Bluetooth/Wi-Fi MAC); default: the receiver id.",
    )
    received_at: AwareDatetime = Field(description="When the receiver heard it.")
    hex: str | None = Field(default=None, max_length=2 * MAX_ITEM_BYTES, description="Message bytes as hex.")
    base64: str | None = Field(
        default=None, max_length=MAX_ITEM_BYTES * 4 // 3 + 4, description="...or base64."
    )

    @model_validator(mode="after")
    def _one_encoding(self) -> "RemoteIdItem":
        if (self.hex is None) == (self.base64 is None):
            raise ValueError("give exactly one of 'hex' and 'base64'")
        return self


class RemoteIdBatch(BaseModel):
    """Captures of one or more receivers."""

    model_config = ConfigDict(extra="forbid")

    items: list[RemoteIdItem] = Field(min_length=1, max_length=1000)


class ItemError(BaseModel):
    """What was wrong with one item (its index in ``items``)."""

    index: int
    offset: int | None = Field(default=None, description="Byte offset of the bad message in the item.")
    error: str


class RemoteIdResult(BaseModel):
    """What a batch did; ``errors`` lists the bad items (their good messages were still applied)."""

    schema_version: int = SCHEMA_VERSION
    items: int
    messages: int = Field(description="Messages decoded (pack contents counted one by one).")
    reports: int = Field(description="Position reports of identified drones.")
    without_id: int = Field(description="Positions of senders whose Basic ID was not heard yet.")
    accepted: int
    out_of_order: int
    errors: list[ItemError]
    alerts: list[DroneAlert]


def _decode_bytes(item: RemoteIdItem) -> bytes:
    try:
        if item.hex is not None:
            return bytes.fromhex(item.hex)
        return base64.b64decode(item.base64 or "", validate=True)
    except (ValueError, binascii.Error) as exc:
        kind = "hex" if item.hex is not None else "base64"
        raise ValueError(f"not valid {kind}: {exc}") from exc


def _error(index: int, exc: RemoteIdDecodeError) -> ItemError:
    return ItemError(index=index, offset=exc.offset, error=str(exc))


class RemoteIdIntake:
    """Decodes and assembles posted Remote ID captures for one DroneHub (thread-safe)."""

    def __init__(self, drones: DroneHub) -> None:
        self.drones = drones
        self._assembler = RemoteIdAssembler()
        self._lock = threading.Lock()

    def apply(self, items: Sequence[RemoteIdItem]) -> RemoteIdResult:
        """Decode every item, apply the reports of the good messages; errors per item index."""
        errors: list[ItemError] = []
        reports: list[DroneReport] = []
        messages = without_id = 0
        with self._lock:
            for position, capture in sorted(enumerate(items), key=lambda pair: pair[1].received_at):
                try:
                    data = _decode_bytes(capture)
                except ValueError as exc:
                    errors.append(ItemError(index=position, error=str(exc)))
                    continue
                found: list[RemoteIdDecodeError] = []
                singles = flatten(decode_stream(data, errors=found))
                errors.extend(_error(position, exc) for exc in found)
                if not data:
                    errors.append(ItemError(index=position, error="empty: no message bytes"))
                messages += len(singles)
                sender = capture.sender or capture.receiver_id
                states = self._assembler.feed_many(sender, singles, capture.received_at)
                for state in states:
                    report = report_from_remote_id(state, receiver_id=capture.receiver_id)
                    if report is None:
                        without_id += 1
                    else:
                        reports.append(report)
        result = self.drones.apply(reports)
        return RemoteIdResult(
            items=len(items),
            messages=messages,
            reports=len(reports),
            without_id=without_id,
            accepted=result.accepted,
            out_of_order=result.out_of_order,
            errors=sorted(errors, key=lambda e: (e.index, e.offset or 0)),
            alerts=result.alerts,
        )


_INTAKES: dict[int, tuple[DroneHub, RemoteIdIntake]] = {}
_INTAKES_LOCK = threading.Lock()


def intake_for(drones: DroneHub) -> RemoteIdIntake:
    """The API intake of a DroneHub (one assembler per hub)."""
    with _INTAKES_LOCK:
        found = _INTAKES.get(id(drones))
        if found is None or found[0] is not drones:
            found = (drones, RemoteIdIntake(drones))
            _INTAKES[id(drones)] = found
        return found[1]
