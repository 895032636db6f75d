"""What every route needs, held once per app: the hub service, settings, token codec, broadcaster,
login throttle."""

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from hwarang.api.live import IncidentBroadcaster
from hwarang.api.oidc import OidcVerifier
from hwarang.api.settings import ApiSettings
from hwarang.api.throttle import LoginThrottle
from hwarang.api.tokens import TokenCodec
from hwarang.hub.evidence.live_relay import LiveRelay
from hwarang.hub.fusion.camera_config import CameraConfigService
from hwarang.hub.service import HubService


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The per-app dependencies of the routers."""

    service: HubService
    settings: ApiSettings
    tokens: TokenCodec
    broadcaster: IncidentBroadcaster
    health_extra: Callable[[], dict[str, object]] | None = None
    oidc: OidcVerifier | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    live_video: LiveRelay | None = None
    camera_config: CameraConfigService | None = None


def get_context(conn: HTTPConnection) -> ApiContext:
    """The app's context (a FastAPI dependency for HTTP routes and WebSockets alike)."""
    context = getattr(conn.app.state, "hwarang", None)
    if not isinstance(context, ApiContext):
        raise RuntimeError("app.state.hwarang is not set: build the app with hwarang.api.app.create_app")
    return context
