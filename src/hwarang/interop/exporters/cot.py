"""Cursor-on-Target: CoT 2.0 XML events and TAK protocol v1 protobuf (stream framing)."""

from typing import Literal

from pydantic import Field

from hwarang.domain import Incident
from hwarang.interop.cot import incident_to_cot_xml, incident_to_tak_protobuf
from hwarang.interop.exporters.base import ExporterPluginConfig, ExportRequest


class CotExporterConfig(ExporterPluginConfig):
    """Incidents as CoT 2.0 XML events."""

    type: Literal["cot"] = Field(default="cot", description="Format: Cursor-on-Target XML.")

    def build(self) -> "CotXmlExporter":
        """A CoT XML exporter."""
        return CotXmlExporter()


class TakProtobufExporterConfig(ExporterPluginConfig):
    """Incidents as TAK protocol v1 protobuf with stream framing."""

    type: Literal["tak-protobuf"] = Field(default="tak-protobuf", description="Format: TAK protobuf.")

    def build(self) -> "TakProtobufExporter":
        """A TAK protobuf exporter."""
        return TakProtobufExporter()


class CotXmlExporter:
    """A CoT event valid from ``request.now`` for ``request.stale_s``; ``CotError`` without a position."""

    media_type = "application/xml"

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        """The incident as one CoT 2.0 XML event."""
        return incident_to_cot_xml(incident, now=request.now, stale_s=request.stale_s)


class TakProtobufExporter:
    """``0xbf``, a varint length and a ``TakMessage``; ``CotError`` without a position."""

    media_type = "application/octet-stream"

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        """The incident as a stream-framed TAK protobuf message."""
        return incident_to_tak_protobuf(incident, framing="stream", now=request.now, stale_s=request.stale_s)
