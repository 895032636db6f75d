"""CAP 1.2 alerts: each referencing every alert sent about the incident before, validated."""

from typing import Literal

from pydantic import Field

from hwarang.domain import Incident
from hwarang.interop.cap import DEFAULT_SENDER, catalog_region_name
from hwarang.interop.cap_sent import send_cap
from hwarang.interop.errors import CapError
from hwarang.interop.exporters.base import ExporterPluginConfig, ExportRequest


class CapExporterConfig(ExporterPluginConfig):
    """Incidents as CAP 1.2 alerts (times in KST)."""

    type: Literal["cap"] = Field(default="cap", description="Format: CAP 1.2 alert.")
    sender: str = Field(default=DEFAULT_SENDER, description="CAP <sender> of the alerts.")

    def build(self) -> "CapExporter":
        """A CAP exporter sending as ``sender``."""
        return CapExporter(self.sender)


class CapExporter:
    """CAP 1.2 with Update / Cancel references from ``request.sent_alerts`` (which records the new one)."""

    media_type = "application/cap+xml"

    def __init__(self, sender: str) -> None:
        self._sender = sender

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        """The incident's current state as a validated CAP 1.2 alert, recorded as sent."""
        if request.sent_alerts is None:
            raise CapError("a CAP export needs the record of sent alerts (ExportRequest.sent_alerts)")
        return send_cap(
            incident,
            request.sent_alerts,
            sender=self._sender,
            web_base_url=request.web_base_url,
            region_names=catalog_region_name,
        )
