"""The hub's provenance check: signature, center, region, camera and subject must all agree."""

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwarang.bus import MemoryBus, event_subject
from hwarang.bus.deadletter import ERROR_HEADER
from hwarang.bus.subjects import DEAD_LETTER_ALL
from hwarang.domain import EventMessage
from hwarang.edge.errors import EdgeError
from hwarang.edge.signing import EventSigner, generate_key, load_private_key, public_key_text
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.sharing.provenance import (
    ProvenanceConfig,
    ProvenanceError,
    ProvenanceVerifier,
    RegisteredCenter,
)
from tests.hub_support import make_message

CENTER = "seoul-jung"
SUBJECT = event_subject("11", "11140", CENTER)


def _verifier(key: Ed25519PrivateKey, **kw: object) -> ProvenanceVerifier:
    center = RegisteredCenter.model_validate(
        {"id": CENTER, "public_key": public_key_text(key), "sido_code": "11", "sigungu_code": "11140", **kw}
    )
    verifier = ProvenanceVerifier.from_config(ProvenanceConfig(centers=[center]))
    assert verifier is not None
    return verifier


def _data(message: EventMessage) -> bytes:
    return message.model_dump_json().encode()


def test_signed_event_passes_and_survives_a_json_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    signed = EventSigner(CENTER, key).sign(make_message())
    verifier = _verifier(key)
    assert verifier.reason(SUBJECT, _data(signed)) is None
    # Another hub re-encoding the JSON differently (whitespace, key order) still verifies.
    reordered = json.dumps(json.loads(_data(signed)), indent=2, sort_keys=False).encode()
    assert verifier.reason(SUBJECT, reordered) is None
    assert EventMessage.model_validate_json(_data(signed)).signature == signed.signature


def test_every_disagreement_is_named() -> None:
    key = Ed25519PrivateKey.generate()
    signer = EventSigner(CENTER, key)
    verifier = _verifier(key, cameras=["cam-01"])
    assert "unsigned event" in str(verifier.reason(SUBJECT, _data(make_message())))
    altered = json.loads(_data(signer.sign(make_message())))
    altered["event"]["frame_index"] = 1
    assert "bad signature" in str(verifier.reason(SUBJECT, json.dumps(altered).encode()))
    other_key = EventSigner(CENTER, Ed25519PrivateKey.generate()).sign(make_message())
    assert "bad signature" in str(verifier.reason(SUBJECT, _data(other_key)))
    wrong_camera = signer.sign(make_message(camera_id="cam-99"))
    assert "camera cam-99 is not registered" in str(verifier.reason(SUBJECT, _data(wrong_camera)))
    wrong_region = signer.sign(make_message(sido_code="26"))
    assert "region 26/26140" in str(
        verifier.reason(event_subject("26", "26140", CENTER), _data(wrong_region))
    )
    ok = signer.sign(make_message())
    assert "is not center" in str(verifier.reason(event_subject("11", "11140", "other"), _data(ok)))
    stranger = EventSigner("busan-cc", key).sign(make_message(center_id="busan-cc"))
    assert "not registered" in str(verifier.reason(SUBJECT, _data(stranger)))
    assert "not an event message" in str(verifier.reason(SUBJECT, b"{}"))


def test_snapshot_bytes_are_bound_by_their_hash() -> None:
    key = Ed25519PrivateKey.generate()
    signed = json.loads(_data(EventSigner(CENTER, key).sign(make_message(with_snapshot=True))))
    signed["event"]["snapshot"]["sha256"] = "0" * 64
    assert "bad signature" in str(_verifier(key).reason(SUBJECT, json.dumps(signed).encode()))


def test_no_registration_means_no_check_and_bad_keys_are_refused() -> None:
    assert ProvenanceVerifier.from_config(ProvenanceConfig()) is None
    bad = RegisteredCenter(id=CENTER, public_key="AAAA", sido_code="11", sigungu_code="11140")
    with pytest.raises(ProvenanceError, match="32 bytes"):
        ProvenanceVerifier.from_config(ProvenanceConfig(centers=[bad]))


def test_signer_refuses_other_centers_and_key_files_are_private(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.key")
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert public_key_text(load_private_key(tmp_path / "k.key")) == public_key_text(key)
    with pytest.raises(EdgeError, match="exists"):
        generate_key(tmp_path / "k.key")
    (tmp_path / "k.key").chmod(0o644)
    with pytest.raises(EdgeError, match="readable by others"):
        load_private_key(tmp_path / "k.key")
    with pytest.raises(EdgeError, match="signs for"):
        EventSigner("other", key).sign(make_message())


async def test_ingest_worker_dead_letters_unproven_events_with_the_reason(service: HubService) -> None:
    key = Ed25519PrivateKey.generate()
    bus = MemoryBus()
    worker = IngestWorker(bus, service.ingest, provenance=_verifier(key).reason)
    good = EventSigner(CENTER, key).sign(make_message(track_id=1))
    unsigned = make_message(track_id=2)
    await bus.publish(SUBJECT, _data(good), msg_id="good")
    await bus.publish(SUBJECT, _data(unsigned), msg_id="unsigned")
    assert await worker.process_batch(timeout_s=1.0) == 2
    assert (worker.stats.ingested, worker.stats.unproven, worker.stats.invalid) == (1, 1, 1)
    assert [e.id for e in service.incidents.events()] == [good.event.id]
    dead = await bus.subscribe(DEAD_LETTER_ALL, durable="check")
    [letter] = await dead.fetch(batch=5, timeout_s=1.0)
    assert letter.headers[ERROR_HEADER] == f"provenance: unsigned event (center {CENTER})"
    assert letter.data == _data(unsigned)
