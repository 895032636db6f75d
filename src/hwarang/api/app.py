"""Build the FastAPI application around a ``HubService``."""

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

import hwarang
from hwarang.api import auth
from hwarang.api.auth import require_user, token_verifies
from hwarang.api.context import ApiContext
from hwarang.api.denials import AuditedRefusal, audit_refusal
from hwarang.api.guard import BodyLimits, InputGuardMiddleware
from hwarang.api.live import IncidentBroadcaster
from hwarang.api.logfilter import install_token_redaction
from hwarang.api.middleware import SecurityHeadersMiddleware
from hwarang.api.oidc import OidcVerifier
from hwarang.api.openapi import document_errors
from hwarang.api.routers import (
    admin,
    audit,
    camera_admin,
    cameras,
    clips,
    conditions,
    drones,
    events,
    evidence_package,
    fusion,
    health,
    incidents,
    interop,
    live,
    live_video,
    map,
    overview,
    shares,
    snapshots,
    visibility,
    workflow,
)
from hwarang.api.settings import ApiSettings
from hwarang.api.throttle import LoginThrottle
from hwarang.api.tokens import TokenCodec
from hwarang.hub.errors import ConflictError, HubError, IngestError, NotFoundError, StoreError
from hwarang.hub.evidence.live_relay import LiveRelay
from hwarang.hub.fusion.camera_config import CameraConfigService
from hwarang.hub.identity.passwords import InvalidPasswordError
from hwarang.hub.service import HubService
from hwarang.hub.sharing.policy import AccessDeniedError
from hwarang.web import STATIC_DIR, WEB_NOT_BUILT

logger = logging.getLogger(__name__)

PUBLIC_ROUTES = frozenset(
    {("GET", "/api/v1/health"), ("POST", auth.TOKEN_PATH), ("POST", auth.REFRESH_PATH), ("GET", "/")}
)
"""The only HTTP routes reachable without a token (besides the ``/static`` mount)."""
SELF_AUTHENTICATING_WEBSOCKETS = frozenset({live.WS_PATH, live_video.WS_PATH, live_video.CAMERA_WS_PATH})
"""WebSockets that check their ``token`` query parameter themselves (close code 4401)."""


def create_app(
    service: HubService,
    settings: ApiSettings,
    *,
    broadcaster: IncidentBroadcaster | None = None,
    health_extra: Callable[[], dict[str, object]] | None = None,
    live_relay: LiveRelay | None = None,
    camera_config: CameraConfigService | None = None,
) -> FastAPI:
    """The hub's HTTP/WebSocket API; subscribes ``broadcaster`` to the service's incident changes."""
    broadcaster = broadcaster if broadcaster is not None else IncidentBroadcaster(settings.ws_queue_size)
    context = ApiContext(
        service=service,
        settings=settings,
        tokens=TokenCodec(settings.signing_key(), settings.token_ttl_s),
        broadcaster=broadcaster,
        health_extra=health_extra,
        oidc=OidcVerifier.from_settings(settings),
        throttle=LoginThrottle(
            free_failures=settings.login_free_failures, max_delay_s=float(settings.login_max_delay_s)
        ),
        live_video=live_relay,
        camera_config=camera_config,
    )
    service.journal.add_listener(broadcaster.publish)
    service.access_changes.add_listener(broadcaster.access_changed)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        install_token_redaction()
        broadcaster.attach(asyncio.get_running_loop())
        stop_map_warm_up = map.start_warm_up(context)
        try:
            yield
        finally:
            stop_map_warm_up()
            broadcaster.detach()

    app = FastAPI(
        title="Hwarang hub API",
        version=hwarang.__version__,
        description="Incidents, events, cameras and evidence of the Hwarang situation-room hub.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.hwarang = context
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(
        InputGuardMiddleware,
        limits=BodyLimits(settings.max_body_bytes, settings.max_unauthenticated_body_bytes),
        token_ok=lambda token: token_verifies(context, token),
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: refusals and 500s carry the headers too
    for module in (
        auth,
        health,
        cameras,
        camera_admin,
        events,
        incidents,
        snapshots,
        clips,
        live,
        live_video,
        interop,
        workflow,
        conditions,
        admin,
        audit,
        evidence_package,
        fusion,
        map,
        drones,
        overview,
        shares,
        visibility,
    ):
        app.include_router(module.router)
    _add_openapi_route(app)
    document_errors(app)
    _add_page(app, settings)
    _add_error_handlers(app)
    check_access_control(app.routes)
    return app


def _add_openapi_route(app: FastAPI) -> None:
    @app.get("/api/v1/openapi.json", tags=["meta"], include_in_schema=False)
    def openapi(_user: Annotated[object, Depends(require_user)]) -> dict[str, Any]:
        return app.openapi()


class _RevalidatedStaticFiles(StaticFiles):
    """The built assets keep stable names, so browsers revalidate them (ETag) on every load."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


_TILES_META = re.compile(r'(<meta name="hwarang-tiles" content=")[^"]*(")')


def _page_html(index: Path, tiles: str | None) -> str:
    """The built page; with ``tiles`` (HWARANG_API_MAP_TILES) set, its tile ``<meta>`` says so."""
    text = index.read_text(encoding="utf-8")
    if tiles is None:
        return text
    return _TILES_META.sub(lambda m: m.group(1) + html.escape(tiles, quote=True) + m.group(2), text, count=1)


def _add_page(app: FastAPI, settings: ApiSettings) -> None:
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False, response_model=None)
    def page() -> FileResponse | HTMLResponse:
        if not index.is_file():
            return HTMLResponse(WEB_NOT_BUILT, status_code=503)
        if settings.map_tiles is not None:
            return HTMLResponse(_page_html(index, settings.map_tiles), headers={"Cache-Control": "no-cache"})
        return FileResponse(
            index, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    if STATIC_DIR.is_dir():
        app.mount("/static", _RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    else:
        logger.warning("web front-end not built (%s missing): run `make web`", STATIC_DIR)


_CLIENT_ERRORS: tuple[tuple[type[HubError], int], ...] = (
    (IngestError, 422),
    (InvalidPasswordError, 422),
    (AccessDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
)
"""Hub errors that are the client's to fix, with their HTTP status; the message says what is wrong."""


def _field_path(loc: Iterable[object]) -> str:
    return ".".join(str(part) for part in loc)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        message = "; ".join(f"{_field_path(err['loc'])}: {err['msg']}" for err in errors)
        return JSONResponse(status_code=422, content={"detail": errors, "message": message})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 403 and not isinstance(exc, AuditedRefusal):
            await audit_refusal(request, str(exc.detail))
        return await http_exception_handler(request, exc)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> JSONResponse:
        for kind, code in _CLIENT_ERRORS:
            if isinstance(exc, kind):
                if code == 403:
                    await audit_refusal(request, str(exc))
                return JSONResponse(status_code=code, content={"detail": str(exc), "message": str(exc)})
        logger.error("hub failure on %s %s: %s", request.method, request.url.path, exc)
        code = 503 if isinstance(exc, StoreError) else 500
        return JSONResponse(
            status_code=code, content={"detail": "hub unavailable", "message": type(exc).__name__}
        )


def _depends_on(dependant: Dependant, target: Callable[..., object]) -> bool:
    return any(dep.call is target or _depends_on(dep, target) for dep in dependant.dependencies)


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those inside included routers (recent FastAPI keeps them nested).

    Routers here carry their own prefix and dependencies, so each original route is complete.
    """
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        yield from routes
        return
    for context in contexts(list(routes)):
        yield context.original_route


def check_access_control(routes: Iterable[BaseRoute]) -> None:
    """Deny by default: raise if a route is neither public nor guarded by ``require_user``."""
    for route in iter_routes(routes):
        if isinstance(route, APIRoute):
            methods = route.methods or set()
            public = bool(methods) and all((method, route.path) in PUBLIC_ROUTES for method in methods)
            if not public and not _depends_on(route.dependant, require_user):
                raise RuntimeError(f"route {sorted(methods)} {route.path} has no access control")
        elif isinstance(route, APIWebSocketRoute) and route.path not in SELF_AUTHENTICATING_WEBSOCKETS:
            raise RuntimeError(f"websocket {route.path} has no access control")
