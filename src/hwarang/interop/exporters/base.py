"""What every exporter shares: the request it serves, its protocol and its config base."""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from hwarang.domain import Incident
from hwarang.interop.cap_sent import SentAlerts
from hwarang.interop.cot import DEFAULT_STALE_S


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What one export may depend on besides the incident: the time, validity, links, sent alerts."""

    now: datetime
    stale_s: float = DEFAULT_STALE_S
    web_base_url: str | None = None
    sent_alerts: SentAlerts | None = None


class Exporter(Protocol):
    """Turns one incident into a partner's format (pure apart from ``request.sent_alerts``)."""

    @property
    def media_type(self) -> str:
        """The HTTP media type of what ``export`` returns."""
        ...

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        """``incident`` in this format; ``InteropError`` when it cannot be expressed (says why)."""
        ...


class ExporterPluginConfig(BaseModel, ABC):
    """Base of every exporter's config: a ``type`` literal (the format name) and ``build``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @abstractmethod
    def build(self) -> Exporter:
        """The exporter this config describes."""


def compact_json(document: dict[str, Any]) -> bytes:
    """``document`` as compact UTF-8 JSON (non-ASCII kept as is)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
