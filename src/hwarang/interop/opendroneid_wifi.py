"""Wi-Fi Beacon broadcast of OpenDroneID (ASTM F3411 / ASD-STAN): a message pack in a beacon frame.

The frame is what the reference C library (opendroneid-core-c) builds: an IEEE 802.11 management
header (broadcast destination, the sender's MAC as source and BSSID), the beacon body (TSF time
stamp, beacon interval, capability short preamble + short slot time), the SSID, one supported rate
(6 Mbit/s basic) and a vendor-specific element with the ASD-STAN OUI ``FA:0B:BC``, type ``0x0D``, a
one-byte send counter and the message pack. ``parse_beacon_pack`` reads the pack back out.
"""

import re
import struct
from collections.abc import Sequence

from hwarang.interop.opendroneid_encode import encode_pack
from hwarang.interop.opendroneid_messages import PROTOCOL_VERSION, RemoteIdEncodeError, SingleMessage

ASD_STAN_OUI = bytes.fromhex("fa0bbc")
ODID_VENDOR_TYPE = 0x0D
BEACON_FRAME_CONTROL = 0x0080
CAPABILITY = 0x0420  # short slot time | short preamble
SUPPORTED_RATE_6MBPS_BASIC = 0x8C
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_HEADER = struct.Struct("<HH6s6s6sH")
_BODY = struct.Struct("<QHH")


def _mac(text: str) -> bytes:
    if not _MAC.match(text):
        raise RemoteIdEncodeError(f"mac {text!r} is not six colon-separated hex bytes")
    return bytes.fromhex(text.replace(":", ""))


def _element(element_id: int, payload: bytes, name: str) -> bytes:
    if len(payload) > 255:
        raise RemoteIdEncodeError(f"{name} is {len(payload)} bytes, an 802.11 element holds at most 255")
    return bytes([element_id, len(payload)]) + payload


def build_beacon_frame(
    messages: Sequence[SingleMessage],
    *,
    mac: str,
    ssid: str,
    send_counter: int,
    interval_tu: int = 100,
    tsf_us: int = 0,
    protocol_version: int = PROTOCOL_VERSION,
) -> bytes:
    """A beacon frame broadcasting ``messages`` as one message pack from ``mac``.

    ``tsf_us`` is the 64-bit TSF time stamp (microseconds), ``interval_tu`` the beacon interval in
    time units (1.024 ms), ``send_counter`` the 0..255 counter receivers use to spot repeats.
    """
    if not 0 <= send_counter <= 255:
        raise RemoteIdEncodeError(f"send_counter {send_counter} outside 0..255")
    if not 0 <= interval_tu <= 0xFFFF:
        raise RemoteIdEncodeError(f"interval_tu {interval_tu} outside 0..65535")
    if not 0 <= tsf_us <= 0xFFFFFFFFFFFFFFFF:
        raise RemoteIdEncodeError(f"tsf_us {tsf_us} does not fit 64 bits")
    source = _mac(mac)
    try:
        ssid_bytes = ssid.encode("ascii")
    except UnicodeEncodeError as exc:
        raise RemoteIdEncodeError(f"ssid {ssid!r} is not ASCII") from exc
    if len(ssid_bytes) > 32:
        raise RemoteIdEncodeError(f"ssid is {len(ssid_bytes)} bytes, at most 32")
    pack = encode_pack(messages, protocol_version=protocol_version)
    vendor = ASD_STAN_OUI + bytes([ODID_VENDOR_TYPE, send_counter]) + pack
    return (
        _HEADER.pack(BEACON_FRAME_CONTROL, 0, b"\xff" * 6, source, source, 0)
        + _BODY.pack(tsf_us, interval_tu, CAPABILITY)
        + _element(0, ssid_bytes, "ssid")
        + _element(1, bytes([SUPPORTED_RATE_6MBPS_BASIC]), "supported rates")
        + _element(0xDD, vendor, "vendor element")
    )


def parse_beacon_pack(frame: bytes) -> tuple[int, bytes]:
    """The send counter and the message pack bytes of an OpenDroneID beacon frame.

    Raises :class:`RemoteIdEncodeError` when the frame is no beacon or carries no OpenDroneID element.
    """
    fixed = _HEADER.size + _BODY.size
    if len(frame) < fixed or struct.unpack_from("<H", frame)[0] != BEACON_FRAME_CONTROL:
        raise RemoteIdEncodeError("not an 802.11 beacon frame")
    offset = fixed
    while offset + 2 <= len(frame):
        element_id, length = frame[offset], frame[offset + 1]
        payload = frame[offset + 2 : offset + 2 + length]
        if len(payload) < length:
            raise RemoteIdEncodeError(f"element {element_id} at byte {offset} runs past the frame end")
        if element_id == 0xDD and payload[:4] == ASD_STAN_OUI + bytes([ODID_VENDOR_TYPE]) and length > 5:
            return payload[4], payload[5:]
        offset += 2 + length
    raise RemoteIdEncodeError("the beacon carries no OpenDroneID vendor element")
