"""GeoJSON (RFC 7946): an incident as a Feature, several as a FeatureCollection."""

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from hwarang.domain import Incident
from hwarang.interop.exporters.base import ExporterPluginConfig, ExportRequest, compact_json
from hwarang.interop.geojson import incident_to_feature, incidents_to_feature_collection


class GeoJsonExporterConfig(ExporterPluginConfig):
    """Incidents as GeoJSON Features."""

    type: Literal["geojson"] = Field(default="geojson", description="Format: GeoJSON (RFC 7946).")

    def build(self) -> "GeoJsonExporter":
        """A GeoJSON exporter."""
        return GeoJsonExporter()


class GeoJsonExporter:
    """A Feature whose geometry is the incident's Point, or null while its position is unknown."""

    media_type = "application/geo+json"

    def export(self, incident: Incident, request: ExportRequest) -> bytes:
        """The incident as one Feature."""
        return compact_json(incident_to_feature(incident))

    def export_many(self, incidents: Iterable[Incident]) -> bytes:
        """Point features in a FeatureCollection; incidents without a position are counted, not listed."""
        return compact_json(incidents_to_feature_collection(incidents))
