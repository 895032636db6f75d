"""Camera configuration changes sent from the hub to an edge, and the edge's answer.

The configuration itself travels as the JSON of the edge's camera config (the same schema as the
site YAML's ``edge.centers[].cameras[]``); the edge validates it again before applying it.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Base64Bytes, Field

from hwarang.domain.base import DomainModel

CAMERA_CONFIG_COMMAND = "camera-config"
"""The command name: ``hwarang.commands.<center>.camera-config``."""
CAMERA_PICTURE_COMMAND = "camera-picture"
"""Asks for a camera's current frame: ``hwarang.commands.<center>.camera-picture``."""


class CameraConfigCommand(DomainModel):
    """Version ``version`` of one camera's configuration, for the center that runs it."""

    command_id: uuid.UUID
    center_id: str = Field(max_length=64)
    camera_id: str = Field(max_length=64)
    version: int = Field(ge=1, description="Higher wins; an edge ignores a version at or below its own.")
    config: dict[str, Any] = Field(description="The camera's config as in the site YAML (JSON).")
    issued_by: str = Field(max_length=64)
    issued_at: AwareDatetime


class AckStatus(StrEnum):
    """What an edge did with a command."""

    APPLIED = "applied"
    REFUSED = "refused"
    STALE = "stale"


class CommandAck(DomainModel):
    """An edge's answer to one command, on ``hwarang.acks.<center>``."""

    command_id: uuid.UUID
    center_id: str = Field(max_length=64)
    camera_id: str = Field(max_length=64)
    version: int
    status: AckStatus
    reason: str | None = Field(default=None, max_length=2000)
    how: str | None = Field(
        default=None,
        max_length=32,
        description="'rules' (swapped between frames), 'restart' (that camera restarted), 'started'.",
    )
    at: datetime


class PictureRequest(DomainModel):
    """The hub asks an edge for one camera's current frame (answered by :class:`CameraPicture`)."""

    command_id: uuid.UUID
    center_id: str = Field(max_length=64)
    camera_id: str = Field(max_length=64)
    issued_at: AwareDatetime


class CameraPicture(DomainModel):
    """A camera's current frame as JPEG on ``hwarang.acks.<center>.picture`` (none: ``reason``).

    ``width`` and ``height`` are the frame's, in which rules are drawn; the JPEG may be smaller.
    """

    command_id: uuid.UUID
    center_id: str = Field(max_length=64)
    camera_id: str = Field(max_length=64)
    jpeg: Base64Bytes | None = None
    width: int = Field(default=0, ge=0)
    height: int = Field(default=0, ge=0)
    reason: str | None = Field(default=None, max_length=500)
