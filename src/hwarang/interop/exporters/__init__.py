"""Exporters: one plugin per partner format, gathered in the ``ExporterConfig`` union.

Adding a format: a module here with an ``ExporterPluginConfig`` subclass (``type: Literal["<format>"]``,
every field defaulted, ``build()`` returning an ``Exporter``) and one line in ``ExporterConfig``. The
API serves every registered format at ``/api/v1/incidents/{id}/export/{format}``.
"""

from typing import Annotated

from pydantic import Field

from hwarang.interop.errors import InteropError
from hwarang.interop.exporters.base import Exporter, ExporterPluginConfig, ExportRequest, compact_json
from hwarang.interop.exporters.cap import CapExporterConfig
from hwarang.interop.exporters.cot import CotExporterConfig, TakProtobufExporterConfig
from hwarang.interop.exporters.geojson import GeoJsonExporter, GeoJsonExporterConfig
from hwarang.plugins import Registry

ExporterConfig = Annotated[
    CapExporterConfig | CotExporterConfig | TakProtobufExporterConfig | GeoJsonExporterConfig,
    Field(discriminator="type"),
]
"""Any exporter's config; the union is the list of export formats."""

EXPORTERS: Registry[ExporterPluginConfig] = Registry("exporter", ExporterConfig, error=InteropError)
"""The exporters, read from ``ExporterConfig``."""


def build_exporter(name: str, registry: Registry[ExporterPluginConfig] = EXPORTERS) -> Exporter:
    """The exporter of format ``name`` with its default settings (``InteropError`` lists the formats)."""
    return registry.parse({"type": name}, what=f"export {name!r}").build()


__all__ = [
    "EXPORTERS",
    "CapExporterConfig",
    "CotExporterConfig",
    "ExportRequest",
    "Exporter",
    "ExporterConfig",
    "ExporterPluginConfig",
    "GeoJsonExporter",
    "GeoJsonExporterConfig",
    "TakProtobufExporterConfig",
    "build_exporter",
    "compact_json",
]
