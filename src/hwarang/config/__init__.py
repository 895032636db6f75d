"""Site configuration: one YAML file that describes the bus, the hub, the API and every edge camera."""

from hwarang.config.loader import ConfigError, load_config, parse_config
from hwarang.config.models import (
    ApiConfig,
    AppConfig,
    BusConfig,
    CameraConfig,
    CenterConfig,
    EdgeConfig,
    HubConfig,
)

__all__ = [
    "ApiConfig",
    "AppConfig",
    "BusConfig",
    "CameraConfig",
    "CenterConfig",
    "ConfigError",
    "EdgeConfig",
    "HubConfig",
    "load_config",
    "parse_config",
]
