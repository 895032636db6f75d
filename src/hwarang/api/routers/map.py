"""``/api/v1/map/...``: the layers of the common operational picture, and an incident's track.

Regions and zones are reference geography (the same for everyone); cameras are filtered by the
user's jurisdiction like ``/api/v1/cameras``. Layers are served as prebuilt bytes with a weak
``ETag`` (``304`` on a matching ``If-None-Match``) and, when the client accepts it, gzip
compressed once per layer version.
"""

import gzip
import json
import logging
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hwarang.api.access import load_incident, permit
from hwarang.api.context import ApiContext, get_context
from hwarang.api.rooms import CamerasRoom, DatabaseRoom, GateRoom
from hwarang.domain import User
from hwarang.domain.region import RegionLevel
from hwarang.geo.map_layers import Detail, LayerBody, default_map_layers, layer_body
from hwarang.hub.layers.cameras import CameraLayer, CameraStatus, health_from_reports
from hwarang.hub.layers.rules import rules_collection
from hwarang.hub.layers.tracks import incident_track
from hwarang.hub.sharing.policy import Action, in_jurisdiction
from hwarang.hub.store.db import Database

GEOJSON = "application/geo+json"
STATIC_CACHE = "private, max-age=300"
"""Regions and zones change only with a new release."""
CAMERA_CACHE = "private, no-cache"
"""Cameras change: the browser revalidates every time, and a matching ETag makes that a cheap 304."""
GZIP_LEVEL = 6
MAX_GZIPPED = 64
WARM_REGIONS: tuple[tuple[RegionLevel, Detail], ...] = (
    ("sido", Detail.LOW),
    ("sigungu", Detail.LOW),
    ("sido", Detail.MEDIUM),
    ("sigungu", Detail.MEDIUM),
)
"""Region layers built when the app starts (what a national view asks for first)."""

logger = logging.getLogger(__name__)

router = APIRouter(tags=["map"])
_GEO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection."},
    304: {"description": "Not modified: the If-None-Match ETag is current."},
}

_camera_layers: "weakref.WeakKeyDictionary[Database, CameraLayer]" = weakref.WeakKeyDictionary()
_camera_layers_lock = threading.Lock()
_gzipped: OrderedDict[str, bytes] = OrderedDict()
_gzipped_lock = threading.Lock()


def camera_layer_of(database: Database) -> CameraLayer:
    """The camera layer cache of one store (one per database object, created on first use)."""
    with _camera_layers_lock:
        layer = _camera_layers.get(database)
        if layer is None:
            layer = CameraLayer(database)
            _camera_layers[database] = layer
        return layer


def _compressed(layer: LayerBody) -> bytes:
    with _gzipped_lock:
        body = _gzipped.get(layer.etag)
        if body is not None:
            _gzipped.move_to_end(layer.etag)
            return body
    body = gzip.compress(layer.body, compresslevel=GZIP_LEVEL, mtime=0)
    with _gzipped_lock:
        _gzipped[layer.etag] = body
        while len(_gzipped) > MAX_GZIPPED:
            _gzipped.popitem(last=False)
    return body


def start_warm_up(context: ApiContext) -> Callable[[], None]:
    """Build the first layers (nationwide cameras, national regions, zones) in a background thread.

    So the first user after a start does not wait for them; returns a function that stops the
    thread between layers (it is a daemon: a layer being built does not hold the process).
    """
    stop = threading.Event()

    def steps() -> list[Callable[[], LayerBody]]:
        layers = default_map_layers()
        cameras = camera_layer_of(context.service.database)
        return [
            lambda: cameras.layer(None, _camera_health(context)),
            lambda: layers.zones(Detail.LOW),
            *[
                lambda level=level, detail=detail: layers.regions(level, detail)
                for level, detail in WARM_REGIONS
            ],
        ]

    def run() -> None:
        started = time.perf_counter()
        try:
            for step in steps():
                if stop.is_set():
                    return
                _compressed(step())
        except Exception as exc:  # a warm-up failure only makes the first request slower
            logger.warning("map layers not prepared in advance: %s: %s", type(exc).__name__, exc)
            return
        logger.info("map layers prepared in %.1f s", time.perf_counter() - started)

    threading.Thread(target=run, name="map-warm-up", daemon=True).start()
    return stop.set


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def layer_response(request: Request, layer: LayerBody, cache_control: str) -> Response:
    """``304`` when the client holds this version, else the bytes (gzip when accepted)."""
    headers = {"ETag": layer.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if _etag_matches(request, layer.etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(_compressed(layer), media_type=GEOJSON, headers=headers)
    return Response(layer.body, media_type=GEOJSON, headers=headers)


def _camera_health(context: ApiContext) -> dict[str, CameraStatus]:
    """Health and reason of each camera the edge in this process reports (``hwarang demo``)."""
    extra = context.health_extra() if context.health_extra is not None else {}
    reported = extra.get("cameras")
    if not isinstance(reported, list):
        return {}
    return health_from_reports(item for item in reported if isinstance(item, dict))


@router.get(
    "/api/v1/map/regions",
    summary="Administrative boundaries (sido or sigungu) as GeoJSON",
    response_class=Response,
    responses=_GEO_RESPONSES,
)
def get_regions(
    request: Request,
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    level: Annotated[RegionLevel, Query(description="'sido' (17) or 'sigungu' (every unit).")] = "sido",
    detail: Annotated[Detail, Query(description="Simplification: low (nation), medium, high (city).")] = (
        Detail.LOW
    ),
) -> Response:
    """Feature ``id``: the region code; properties ``{code, name, name_en, level, sido_code}``."""
    return layer_response(request, default_map_layers().regions(level, detail), STATIC_CACHE)


@router.get(
    "/api/v1/map/zones",
    summary="The exercise zones as GeoJSON",
    response_class=Response,
    responses=_GEO_RESPONSES,
)
def get_zones(
    request: Request,
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    detail: Annotated[Detail, Query(description="Simplification: low (nation), medium, high (city).")] = (
        Detail.LOW
    ),
) -> Response:
    """Features with properties ``{zone_id, name, name_en, sido_codes}`` (not need-to-know)."""
    return layer_response(request, default_map_layers().zones(detail), STATIC_CACHE)


@router.get(
    "/api/v1/map/cameras",
    summary="Cameras in your jurisdiction as GeoJSON points",
    response_class=Response,
    responses=_GEO_RESPONSES,
)
def get_camera_layer(
    request: Request,
    user: Annotated[User, Depends(permit(Action.CAMERA_VIEW))],
    context: Annotated[ApiContext, Depends(get_context)],
    database: DatabaseRoom,
) -> Response:
    """Properties ``{id, name, center_id, sido_code, sigungu_code, heading_deg, fov_deg, range_m, health}``.

    ``health`` is ``ok | degraded | down | unknown``; the hub itself stores no camera health, so
    it is ``unknown`` unless the edge runs in the hub's process (``hwarang demo``).
    """
    layer = camera_layer_of(database).layer(user.jurisdiction_code, _camera_health(context))
    return layer_response(request, layer, CAMERA_CACHE)


@router.get(
    "/api/v1/map/rules",
    summary="The rules of cameras in your jurisdiction (zones, tripwires) on the ground as GeoJSON",
    response_class=Response,
    responses=_GEO_RESPONSES,
)
def get_rule_layer(
    request: Request,
    user: Annotated[User, Depends(permit(Action.CAMERA_VIEW))],
    context: Annotated[ApiContext, Depends(get_context)],
    cameras: CamerasRoom,
    camera_id: Annotated[str | None, Query(description="Only this camera's rules.")] = None,
) -> Response:
    """Zone Polygons and tripwire LineStrings ``{camera_id, rule, kind, type, clipped}``.

    Pixel rules projected through each camera's calibration (its current configuration version);
    ``kind`` is ``zone`` or ``line``; ``clipped`` when part of the shape lay above the horizon.
    The collection's ``skipped`` member lists ``{camera_id, rule, reason}`` of rules not placed
    (camera without calibration, shape entirely above the horizon). Need-to-know like
    ``/api/v1/map/cameras``: only cameras in the user's jurisdiction.
    """
    service = context.camera_config
    configs = {} if service is None else service.configs()
    mine = [
        (camera.id, configs[camera.id][1])
        for camera in sorted(cameras.all(), key=lambda c: c.id)
        if camera.id in configs
        and in_jurisdiction(user, camera.sigungu_code)
        and (camera_id is None or camera.id == camera_id)
    ]
    body = rules_collection(mine)
    return layer_response(request, layer_body(_json_bytes(body), len(body["features"])), CAMERA_CACHE)


@router.get(
    "/api/v1/incidents/{incident_id}/track",
    summary="An incident's track and event positions as GeoJSON",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection."}},
)
def get_incident_track(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    database: DatabaseRoom,
    gate: GateRoom,
) -> Response:
    """Track LineStrings ``{track_key, camera_id, points, first_seen, last_seen}`` and event Points.

    Points carry ``{event_id, time, class, track_key}``. Empty when no event has a ground position;
    404 when the incident is missing, 403 when the user may not see its evidence (the track is
    drawn from the events, so it needs the same right as the events themselves).
    """
    load_incident(gate, user, incident_id, Action.EVIDENCE_VIEW)
    body = incident_track(database, incident_id)
    return Response(_json_bytes(body), media_type=GEOJSON, headers={"Cache-Control": "private, no-store"})


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
