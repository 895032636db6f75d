"""Exporters are plugins: the shipped formats build from their config; a new one is one class."""

from datetime import UTC, datetime
from typing import Literal

import pytest

from hwarang.domain import Incident
from hwarang.interop.cap_sent import MemorySentAlerts
from hwarang.interop.cap_validate import validate_cap
from hwarang.interop.errors import CapError, InteropError
from hwarang.interop.exporters import EXPORTERS, ExporterPluginConfig, ExportRequest, build_exporter
from tests.unit.interop.interop_support import make_incident

NOW = datetime(2025, 8, 18, 14, 5, tzinfo=UTC)


class CsvExporterConfig(ExporterPluginConfig):
    """A format written in this test: one CSV line per incident."""

    type: Literal["csv"] = "csv"

    def build(self) -> "CsvExporter":
        return CsvExporter()


class CsvExporter:
    media_type = "text/csv"

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        geo = incident.geo
        where = f"{geo.lat},{geo.lon}" if geo is not None else ","
        return f"{incident.id},{incident.severity.value},{where}\n".encode()


def test_a_format_written_in_a_test_is_built_by_name() -> None:
    exporters = EXPORTERS.extended(CsvExporterConfig)  # the one line: CsvExporterConfig in ExporterConfig
    incident = make_incident()
    body = build_exporter("csv", exporters).export(incident, ExportRequest(now=NOW))
    assert body.decode() == f"{incident.id},high,37.56631234,126.97791234\n"
    with pytest.raises(InteropError, match="unknown exporter type 'csv'; known types: cap, cot, geojson"):
        build_exporter("csv")


def test_the_shipped_formats_build_and_export() -> None:
    incident = make_incident()
    sent = MemorySentAlerts()
    request = ExportRequest(now=NOW, stale_s=60, sent_alerts=sent)
    validate_cap(build_exporter("cap").export(incident, request))
    assert [a.identifier for a in sent.sent_before(incident.id)]  # CAP records what it sent
    assert b"<event" in build_exporter("cot").export(incident, request)
    assert build_exporter("tak-protobuf").export(incident, request)[:1] == b"\xbf"
    assert b'"type":"Feature"' in build_exporter("geojson").export(incident, request)
    with pytest.raises(CapError, match="needs the record of sent alerts"):
        build_exporter("cap").export(incident, ExportRequest(now=NOW))
