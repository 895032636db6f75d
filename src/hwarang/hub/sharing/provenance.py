"""Provenance at the hub: is this event really from the center it names, on that center's subject?

Each registered center has an Ed25519 public key, its region and (optionally) its cameras. An event
is accepted only when its signature verifies with the key of the center it claims, over the JSON
as received (see :mod:`hwarang.domain.provenance`), and when its center, region, camera and bus
subject all agree with the registration. Events pass through hub to hub unchanged, so a national
hub verifies an event it never saw published. With no center registered the check is off.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwarang.bus.subjects import EVENTS_PREFIX
from hwarang.domain.provenance import signed_payload

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class RegisteredCenter(BaseModel):
    """A center whose events this hub accepts: identity, public key, region, cameras."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SLUG, description="Center id (as in its events and bus subject).")
    public_key: str | None = Field(
        default=None, description="Base64 Ed25519 public key, as printed by 'hwarang keys generate'."
    )
    public_key_file: Path | None = Field(
        default=None, description="A file holding that base64 public key (instead of public_key)."
    )
    sido_code: str = Field(pattern=r"^\d{2}$", description="The center's sido code.")
    sigungu_code: str = Field(pattern=r"^\d{5}$", description="The center's local government code.")
    other_sigungu_codes: list[Annotated[str, Field(pattern=r"^\d{5}$")]] = Field(
        default_factory=list,
        description="Further local governments of the center's cameras (sido: their first two digits).",
    )
    cameras: list[str] = Field(
        default_factory=list,
        description="Camera ids of the center; empty: the cameras under 'edge:' in the site file decide.",
    )

    @model_validator(mode="after")
    def _one_key(self) -> "RegisteredCenter":
        if (self.public_key is None) == (self.public_key_file is None):
            raise ValueError(f"center {self.id}: give exactly one of public_key or public_key_file")
        return self

    def key_text(self) -> str:
        """The base64 public key (read from ``public_key_file`` when given)."""
        if self.public_key is not None:
            return self.public_key
        assert self.public_key_file is not None
        return self.public_key_file.read_text(encoding="utf-8").strip()


class ProvenanceConfig(BaseModel):
    """Which centers' events the hub accepts (docs/security.md); none registered: not checked."""

    model_config = ConfigDict(extra="forbid")

    centers: list[RegisteredCenter] = Field(
        default_factory=list, description="Registered centers; any other center's events are refused."
    )


class ProvenanceError(ValueError):
    """A registration that cannot be used (bad public key)."""


def parse_public_key(text: str, *, center_id: str) -> Ed25519PublicKey:
    """An Ed25519 public key from base64 of its 32 raw bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ProvenanceError(f"center {center_id}: public key is not base64 of 32 bytes: {exc}") from exc


@dataclass(frozen=True, slots=True)
class _Center:
    key: Ed25519PublicKey
    regions: frozenset[tuple[str, str]]
    cameras: frozenset[str]


CameraOwner = Callable[[str], str | None]


class ProvenanceVerifier:
    """``reason(subject, data)``: None when the event may be stored, else why it may not."""

    def __init__(self, centers: Mapping[str, _Center], camera_owner: CameraOwner | None = None) -> None:
        self._centers = dict(centers)
        self._camera_owner = camera_owner

    @classmethod
    def from_config(
        cls, config: ProvenanceConfig, camera_owner: CameraOwner | None = None
    ) -> "ProvenanceVerifier | None":
        """The verifier for ``config``; None when no center is registered (check off)."""
        if not config.centers:
            return None
        centers = {
            c.id: _Center(
                parse_public_key(c.key_text(), center_id=c.id),
                frozenset([(c.sido_code, c.sigungu_code), *((s[:2], s) for s in c.other_sigungu_codes)]),
                frozenset(c.cameras),
            )
            for c in config.centers
        }
        return cls(centers, camera_owner)

    def reason(self, subject: str, data: bytes) -> str | None:
        """Why the message on ``subject`` must not be stored, or None when it checks out."""
        try:
            message = json.loads(data)
            event = message["event"]
            signature = message.get("signature")
            center_id = str(event["center_id"])
        except (ValueError, KeyError, TypeError) as exc:
            return f"not an event message: {exc}"
        if not isinstance(signature, dict):
            return f"unsigned event (center {center_id})"
        center = self._centers.get(center_id)
        if center is None:
            return f"center {center_id!r} is not registered at this hub"
        if signature.get("center_id") != center_id:
            return f"signed by center {signature.get('center_id')!r} but claims center {center_id!r}"
        problem = _bad_signature(center.key, event, signature)
        if problem is not None:
            return problem
        return self._disagreement(subject, center_id, center, event)

    def _disagreement(
        self, subject: str, center_id: str, center: _Center, event: Mapping[str, Any]
    ) -> str | None:
        region = (str(event.get("sido_code")), str(event.get("sigungu_code")))
        if region not in center.regions:
            known = ", ".join(sorted(f"{a}/{b}" for a, b in center.regions))
            return f"region {region[0]}/{region[1]} is not center {center_id}'s ({known})"
        expected = f"{EVENTS_PREFIX}.{region[0]}.{region[1]}.{center_id}"
        if subject != expected:
            return f"subject {subject} is not center {center_id}'s subject {expected}"
        camera = str(event.get("camera_id"))
        if center.cameras:
            if camera not in center.cameras:
                return f"camera {camera} is not registered to center {center_id}"
        elif self._camera_owner is not None:
            owner = self._camera_owner(camera)
            if owner is not None and owner != center_id:
                return f"camera {camera} belongs to center {owner}, not {center_id}"
        return None


def _bad_signature(
    key: Ed25519PublicKey, event: Mapping[str, Any], signature: Mapping[str, Any]
) -> str | None:
    if signature.get("algorithm", "ed25519") != "ed25519":
        return f"unsupported signature algorithm {signature.get('algorithm')!r}"
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
        key.verify(value, signed_payload(event))
    except (binascii.Error, ValueError, InvalidSignature):
        return f"bad signature for center {event.get('center_id')} (forged or altered event)"
    return None
