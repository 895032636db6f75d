"""The authorisation matrix: every route x every role x in / out of jurisdiction, plus no token.

Each route has one row in :data:`MATRIX`; a route of the app without a row fails the test, so a
new route needs its expectations written here. Each route runs on a fresh copy of a seeded hub
(see ``sharing_support``); each caller acts on its own slot (its own incident, task, condition,
target user), so one caller's change does not decide another's answer.

Outcomes: ``ok`` is a 2xx answer (for lists: holding the seeded objects); ``hidden`` is a 2xx
list without any seeded object (need-to-know filtering); ``denied`` is 403. Without a token
every route but the public ones answers 401. No route here needs a documented non-auth 4xx:
the slots make every allowed call valid (a repeated transition would be 409, a reused user name
409, and these are not counted as allowed).
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.routing import Mount

from hwarang.api.app import create_app, iter_routes
from hwarang.api.settings import ApiSettings
from hwarang.domain import AgencyKind, ConditionKind, Role
from hwarang.hub.service import HubService
from hwarang.interop.remote_id_flight import generate_flight
from tests.unit.api.camera_admin_support import RecordingBus, camera_json, config_service, site_edge
from tests.unit.api.sharing_support import (
    AREA,
    CAMERA_ID,
    PASSWORD,
    World,
    copy_world,
    event_message,
    jpeg,
    open_condition_policy,
    open_hub,
    seed,
)
from tests.unit.api.sharing_support import username as seeded_username

pytestmark = pytest.mark.timeout(120)

Outcome = Literal["ok", "hidden", "denied"]
OP, CMD, HEAD, LIAISON, EVAL, ADMIN = (
    Role.OPERATOR,
    Role.COMMANDER,
    Role.HEAD_OF_LOCAL_GOVERNMENT,
    Role.AGENCY_LIAISON,
    Role.EVALUATOR,
    Role.ADMIN,
)
EVERYONE = frozenset(Role)
# Who may do what at all (ROLE_ACTIONS, written out so a change there shows here).
EVIDENCE = frozenset({OP, CMD, HEAD, LIAISON, ADMIN})
HANDLE = frozenset({OP, CMD, HEAD, ADMIN})  # transition, attach, task.create
ASSIGN = frozenset({OP, CMD, ADMIN})
NOTE = EXPORT = EVIDENCE
TASK_UPDATE = frozenset({CMD, LIAISON, ADMIN})
INGEST = frozenset({OP, ADMIN})
DECLARE = frozenset({CMD, HEAD, ADMIN})
AUDIT = frozenset({EVAL, ADMIN})
USER_ADMIN = frozenset({ADMIN})
MERGE = frozenset({CMD, ADMIN})
APPROVE = frozenset({HEAD, ADMIN})  # the local government's authority over the area
SHARE = frozenset({CMD, HEAD, ADMIN})  # incident.share, owner agencies only
SLOTS = 12
CAMERA_SITE = site_edge("seoul-jongno", CAMERA_ID, lat=37.5729, lon=126.9794)  # the seeded camera
CAMERA_CONFIG = f"/api/v1/cameras/{CAMERA_ID}/config"
ANONYMOUS_SLOT = SLOTS - 1  # the anonymous caller changes nothing; it reuses the last slot


@dataclass(frozen=True)
class Call:
    """What one caller sends."""

    method: str
    url: str
    json: Any = None
    params: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


@dataclass
class Ctx:
    """What a request builder may use: the seeded ids, the client, the caller's slot."""

    world: World
    client: TestClient
    slot: int
    username: str | None


Builder = Callable[[Ctx], Call]
Sees = Callable[[httpx.Response, World], bool]


@dataclass(frozen=True)
class Row:
    """Expected outcomes of one route: roles allowed in and out of jurisdiction."""

    build: Builder
    inside: frozenset[Role]
    outside: frozenset[Role] = frozenset()
    hidden_outside: frozenset[Role] = frozenset()
    sees: Sees | None = None
    public: bool = False
    note: str = ""

    def expected(self, role: Role, inside: bool) -> Outcome:
        if self.public:
            return "ok"
        if inside:
            return "ok" if role in self.inside else "denied"
        if role in self.outside:
            return "ok"
        return "hidden" if role in self.hidden_outside else "denied"


def _awaiting(c: Ctx) -> uuid.UUID:
    """A condition on 11110 declared by a commander, waiting for the local government's approval."""
    service: HubService = c.client.app.state.hwarang.service  # type: ignore[attr-defined]
    commander = service.identity.users.get("commander-in")
    if commander is None:
        raise AssertionError("commander-in missing")
    condition, _grants = service.conditions.declare(
        kind=ConditionKind.ALERT_LEVEL,
        subtype=None,
        alert_level=2,
        area_codes=[AREA],
        reason="awaiting approval",
        expires_at=datetime.now(UTC) + timedelta(hours=2),
        actor=commander,
    )
    return condition.id


def _share(c: Ctx) -> uuid.UUID:
    """A share of the caller's incident with the coast guard, made by the nationwide admin."""
    service: HubService = c.client.app.state.hwarang.service  # type: ignore[attr-defined]
    admin = service.identity.users.get("admin")
    if admin is None:
        raise AssertionError("admin missing")
    share = service.shares.share(
        c.world.incidents[c.slot],
        admin,
        agency_code=None,
        agency_kind=AgencyKind.COAST_GUARD,
        reason="matrix",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return share.id


def _incident(c: Ctx, suffix: str = "") -> str:
    return f"/api/v1/incidents/{c.world.incidents[c.slot]}{suffix}"


def _incident0(suffix: str = "") -> Builder:
    return lambda c: Call("GET", f"/api/v1/incidents/{c.world.incidents[0]}{suffix}")


def _get(url: str, **params: Any) -> Builder:
    return lambda c: Call("GET", url, params=params or None)


def _any_id(ids: Callable[[World], list[Any]]) -> Sees:
    def sees(response: httpx.Response, world: World) -> bool:
        return any(str(i) in response.text for i in ids(world))

    return sees


def _future(days: float = 1.0) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _refresh(c: Ctx) -> Call:
    login = c.client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    return Call("POST", "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})


def _detection(c: Ctx) -> Call:
    body = {
        "vendor": "acme-vision",
        "detection_id": f"d-{c.slot}",
        "camera_id": CAMERA_ID,
        "sido_code": "11",
        "sigungu_code": AREA,
        "occurred_at": datetime(2026, 3, 2, 12, c.slot, tzinfo=UTC).isoformat(),
        "label": "person",
        "confidence": 0.8,
        "bbox": {"x1": 1, "y1": 2, "x2": 30, "y2": 60},
    }
    return Call("POST", "/api/v1/detections", json=body)


def _remote_id(c: Ctx) -> Call:
    start = datetime(2026, 3, 2, 12, c.slot, tzinfo=UTC)
    [(at, pack)] = generate_flight(
        [(37.57, 126.98), (37.57, 126.98)],
        speed_ms=10.0,
        alt_m=50.0,
        operator=(37.569, 126.98),
        uas_id=f"MATRIX{c.slot}",
        start=start,
    )
    item = {"receiver_id": f"rx-{c.slot}", "received_at": at.isoformat(), "hex": pack.hex()}
    return Call("POST", "/api/v1/drones/remote-id", json={"items": [item]})


def _telemetry(c: Ctx) -> Call:
    report = {"unit_id": f"sys{c.slot}", "lat": 37.57, "lon": 126.98, "time": _future(0.0)}
    return Call("POST", "/api/v1/drones/telemetry", json={"reports": [report]})


_INCIDENTS = _any_id(lambda w: w.incidents)
MATRIX: dict[tuple[str, str], Row] = {
    # public
    ("POST", "/api/v1/auth/token"): Row(
        lambda c: Call("POST", "/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}),
        EVERYONE,
        public=True,
    ),
    ("POST", "/api/v1/auth/refresh"): Row(_refresh, EVERYONE, public=True),
    ("GET", "/api/v1/health"): Row(_get("/api/v1/health"), EVERYONE, public=True),
    ("GET", "/"): Row(_get("/"), EVERYONE, public=True),
    ("GET", "/static"): Row(_get("/static/app.js"), EVERYONE, public=True),
    # any logged-in user
    ("POST", "/api/v1/auth/logout"): Row(
        lambda c: Call("POST", "/api/v1/auth/logout", json={}), EVERYONE, EVERYONE
    ),
    ("GET", "/api/v1/auth/me"): Row(_get("/api/v1/auth/me"), EVERYONE, EVERYONE),
    ("POST", "/api/v1/auth/password"): Row(
        lambda c: Call(
            "POST",
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "matrix-new-password-1"},
        ),
        EVERYONE,
        EVERYONE,
    ),
    ("GET", "/api/v1/openapi.json"): Row(_get("/api/v1/openapi.json"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/agencies"): Row(_get("/api/v1/agencies"), EVERYONE, EVERYONE, note="not need-to-know"),
    # incidents and evidence
    ("GET", "/api/v1/incidents"): Row(
        _get("/api/v1/incidents"), EVERYONE, hidden_outside=EVERYONE, sees=_INCIDENTS
    ),
    ("GET", "/api/v1/incidents/{incident_id}"): Row(_incident0(), EVERYONE),
    ("GET", "/api/v1/search"): Row(
        _get(f"/api/v1/search?q={CAMERA_ID}"), EVERYONE, hidden_outside=EVERYONE, sees=_INCIDENTS
    ),
    ("GET", "/api/v1/statistics"): Row(
        _get("/api/v1/statistics"), EVERYONE, EVERYONE, note="counts only what the caller may view"
    ),
    ("GET", "/api/v1/cameras"): Row(
        _get("/api/v1/cameras"), EVERYONE, hidden_outside=EVERYONE, sees=_any_id(lambda w: [CAMERA_ID])
    ),
    ("GET", "/api/v1/events"): Row(
        _get("/api/v1/events"), EVIDENCE, hidden_outside=EVIDENCE, sees=_any_id(lambda w: w.events)
    ),
    ("GET", "/api/v1/events/{event_id}"): Row(
        lambda c: Call("GET", f"/api/v1/events/{c.world.events[0]}"), EVIDENCE
    ),
    ("POST", "/api/v1/events"): Row(
        lambda c: Call("POST", "/api/v1/events", json=event_message(50 + c.slot).model_dump(mode="json")),
        INGEST,
        note="out of jurisdiction: the event's area is not the caller's",
    ),
    ("GET", "/api/v1/events/{event_id}/clip"): Row(
        lambda c: Call("GET", f"/api/v1/events/{c.world.events[0]}/clip"), EVIDENCE
    ),
    ("GET", "/api/v1/snapshots/{sha256}"): Row(
        lambda c: Call("GET", f"/api/v1/snapshots/{c.world.snapshots[0]}"), EVIDENCE
    ),
    # map layers (regions and zones are reference geography, not need-to-know)
    ("GET", "/api/v1/map/regions"): Row(_get("/api/v1/map/regions"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/map/zones"): Row(_get("/api/v1/map/zones"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/map/cameras"): Row(
        _get("/api/v1/map/cameras"), EVERYONE, hidden_outside=EVERYONE, sees=_any_id(lambda w: [CAMERA_ID])
    ),
    ("GET", "/api/v1/map/rules"): Row(  # the seeded camera is uncalibrated: its rule is listed as skipped
        _get("/api/v1/map/rules"), EVERYONE, hidden_outside=EVERYONE, sees=_any_id(lambda w: [CAMERA_ID])
    ),
    ("GET", "/api/v1/incidents/{incident_id}/track"): Row(_incident0("/track"), EVIDENCE),
    # interop
    ("GET", "/api/v1/incidents/{incident_id}/cap"): Row(_incident0("/cap"), EXPORT),
    ("GET", "/api/v1/incidents/{incident_id}/cot"): Row(_incident0("/cot"), EXPORT),
    ("GET", "/api/v1/incidents/{incident_id}/cot.pb"): Row(_incident0("/cot.pb"), EXPORT),
    ("GET", "/api/v1/incidents/{incident_id}/geojson"): Row(_incident0("/geojson"), EXPORT),
    ("GET", "/api/v1/incidents/{incident_id}/export/{fmt}"): Row(_incident0("/export/geojson"), EXPORT),
    ("GET", "/api/v1/incidents.geojson"): Row(
        _get("/api/v1/incidents.geojson"), EXPORT, hidden_outside=EXPORT, sees=_INCIDENTS
    ),
    ("POST", "/api/v1/detections"): Row(_detection, INGEST, note="out of jurisdiction: detection's area"),
    ("GET", "/api/v1/incidents/{incident_id}/package"): Row(_incident0("/package"), EVIDENCE),
    # audit: evaluators audit every jurisdiction, so the trail is not filtered by area
    ("GET", "/api/v1/audit"): Row(_get("/api/v1/audit"), AUDIT, AUDIT, note="not filtered by jurisdiction"),
    ("GET", "/api/v1/audit/verify"): Row(_get("/api/v1/audit/verify"), AUDIT, AUDIT),
    # workflow
    ("POST", "/api/v1/incidents/{incident_id}/transitions"): Row(
        lambda c: Call("POST", _incident(c, "/transitions"), json={"to": "acknowledged"}), HANDLE
    ),
    ("POST", "/api/v1/incidents/{incident_id}/assign"): Row(
        lambda c: Call("POST", _incident(c, "/assign"), json={"username": "operator-in"}), ASSIGN
    ),
    ("GET", "/api/v1/incidents/{incident_id}/notes"): Row(_incident0("/notes"), EVERYONE),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): Row(
        lambda c: Call("POST", _incident(c, "/notes"), json={"text": "seen at the gate"}), NOTE
    ),
    ("GET", "/api/v1/incidents/{incident_id}/attachments"): Row(_incident0("/attachments"), EVERYONE),
    ("POST", "/api/v1/incidents/{incident_id}/attachments"): Row(
        lambda c: Call(
            "POST",
            _incident(c, "/attachments"),
            files={"file": ("gate.jpg", jpeg(900 + c.slot), "image/jpeg")},
        ),
        HANDLE,
    ),
    ("GET", "/api/v1/incidents/{incident_id}/attachments/{attachment_id}"): Row(
        lambda c: Call("GET", f"/api/v1/incidents/{c.world.incidents[0]}/attachments/{c.world.attachment}"),
        EVIDENCE,
    ),
    ("GET", "/api/v1/incidents/{incident_id}/timeline"): Row(_incident0("/timeline"), EVERYONE),
    ("GET", "/api/v1/incidents/{incident_id}/tasks"): Row(_incident0("/tasks"), EVERYONE),
    ("POST", "/api/v1/incidents/{incident_id}/tasks"): Row(
        lambda c: Call(
            "POST",
            _incident(c, "/tasks"),
            json={"agency_code": "police-seoul", "title": "Block the road", "due_at": _future()},
        ),
        HANDLE,
    ),
    ("GET", "/api/v1/tasks"): Row(
        _get("/api/v1/tasks"),
        EVERYONE,
        hidden_outside=EVERYONE,
        note="inside, each sees its agency's tasks (commanders all): only the status is checked",
    ),
    ("POST", "/api/v1/tasks/{task_id}/state"): Row(
        lambda c: Call(
            "POST", f"/api/v1/tasks/{c.world.tasks[c.slot]}/state", json={"state": "acknowledged"}
        ),
        TASK_UPDATE,
    ),
    # fusion by hand
    ("POST", "/api/v1/incidents/{incident_id}/merge"): Row(
        lambda c: Call(
            "POST",
            _incident(c, "/merge"),
            json={"source_ids": [str(c.world.spares[c.slot])], "reason": "the same intruder"},
        ),
        MERGE,
    ),
    ("POST", "/api/v1/incidents/{incident_id}/split"): Row(
        lambda c: Call(
            "POST",
            _incident(c, "/split"),
            json={"event_ids": [str(c.world.second_events[c.slot])], "reason": "two people"},
        ),
        MERGE,
    ),
    # conditions and grants
    ("GET", "/api/v1/conditions"): Row(
        _get("/api/v1/conditions"), EVERYONE, hidden_outside=EVERYONE, sees=_any_id(lambda w: w.conditions)
    ),
    ("POST", "/api/v1/conditions"): Row(
        lambda c: Call(
            "POST",
            "/api/v1/conditions",
            json={
                "kind": "alert_level",
                "alert_level": 2,
                "area_codes": [AREA],
                "reason": "경계태세 2급",
                "expires_at": _future(),
            },
        ),
        DECLARE,
        note="out of jurisdiction: the area 11110 is not the declarer's",
    ),
    ("POST", "/api/v1/conditions/{condition_id}/lift"): Row(
        lambda c: Call("POST", f"/api/v1/conditions/{c.world.conditions[c.slot]}/lift"), DECLARE
    ),
    ("POST", "/api/v1/conditions/{condition_id}/approve"): Row(
        lambda c: Call("POST", f"/api/v1/conditions/{_awaiting(c)}/approve"),
        APPROVE,
        note="only the head of the local government covering 11110 (and the nationwide admin)",
    ),
    ("POST", "/api/v1/conditions/{condition_id}/reject"): Row(
        lambda c: Call("POST", f"/api/v1/conditions/{_awaiting(c)}/reject", json={"reason": "not needed"}),
        APPROVE,
    ),
    ("GET", "/api/v1/conditions/policy"): Row(_get("/api/v1/conditions/policy"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/visibility"): Row(_get("/api/v1/visibility"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/incidents/{incident_id}/shares"): Row(_incident0("/shares"), EVERYONE),
    ("POST", "/api/v1/incidents/{incident_id}/shares"): Row(
        lambda c: Call(
            "POST",
            _incident(c, "/shares"),
            json={"agency_kind": "coast_guard", "reason": "matrix", "expires_at": _future()},
        ),
        SHARE,
        note="the owning center's roles with incident.share; the police liaison is a partner",
    ),
    ("POST", "/api/v1/incidents/{incident_id}/shares/{share_id}/revoke"): Row(
        lambda c: Call("POST", _incident(c, f"/shares/{_share(c)}/revoke")), SHARE
    ),
    ("GET", "/api/v1/grants"): Row(
        _get("/api/v1/grants"),
        EVERYONE,
        hidden_outside=EVERYONE,
        note="inside, owners see the army's grants for 11110, the police liaison only its own (none)",
    ),
    # administration
    ("GET", "/api/v1/users"): Row(
        _get("/api/v1/users"), USER_ADMIN, hidden_outside=USER_ADMIN, sees=_any_id(lambda w: ["target-0"])
    ),
    ("POST", "/api/v1/users"): Row(
        lambda c: Call(
            "POST",
            "/api/v1/users",
            json={
                "username": f"new-{c.slot}",
                "display_name": "New operator",
                "agency_code": "seoul-jongno",
                "roles": ["operator"],
                "password": PASSWORD,
            },
        ),
        USER_ADMIN,
    ),
    ("POST", "/api/v1/users/{username}/disable"): Row(
        lambda c: Call("POST", f"/api/v1/users/target-{c.slot}/disable"), USER_ADMIN
    ),
    ("POST", "/api/v1/users/{username}/enable"): Row(
        lambda c: Call("POST", f"/api/v1/users/target-{c.slot}/enable"), USER_ADMIN
    ),
    ("POST", "/api/v1/users/{username}/unlock"): Row(
        lambda c: Call("POST", f"/api/v1/users/target-{c.slot}/unlock"), USER_ADMIN
    ),
    ("POST", "/api/v1/agencies"): Row(
        lambda c: Call(
            "POST",
            "/api/v1/agencies",
            json={
                "code": f"jongno-dong-{c.slot}",
                "name": "동",
                "kind": "local_government",
                "jurisdiction_code": AREA,
            },
        ),
        USER_ADMIN,
    ),
    # cameras and rules from the page (issue #17): administrators, cameras in their jurisdiction
    ("GET", "/api/v1/cameras/{camera_id}/config"): Row(_get(CAMERA_CONFIG), USER_ADMIN),
    ("PUT", "/api/v1/cameras/{camera_id}/config"): Row(
        lambda c: Call(
            "PUT", CAMERA_CONFIG, json={"version": 0, "config": camera_json(CAMERA_SITE, id=CAMERA_ID)}
        ),
        USER_ADMIN,
    ),
    ("POST", "/api/v1/cameras"): Row(
        lambda c: Call(
            "POST",
            "/api/v1/cameras",
            json={"center_id": "seoul-jongno", "config": camera_json(CAMERA_SITE, id=f"cam-new-{c.slot}")},
        ),
        USER_ADMIN,
        note="out of jurisdiction: the new camera's position",
    ),
    ("GET", "/api/v1/cameras/{camera_id}/picture"): Row(
        _get(f"/api/v1/cameras/{CAMERA_ID}/picture"), USER_ADMIN
    ),
    ("GET", "/api/v1/config/export.yaml"): Row(
        _get("/api/v1/config/export.yaml"), USER_ADMIN, USER_ADMIN, note="holds only the caller's cameras"
    ),
    # drones (issue #8): receivers and own units report what they hear anywhere; not need-to-know
    ("POST", "/api/v1/drones/remote-id"): Row(_remote_id, INGEST, INGEST, note="not bound to a jurisdiction"),
    ("POST", "/api/v1/drones/telemetry"): Row(_telemetry, INGEST, INGEST, note="not bound to a jurisdiction"),
    ("GET", "/api/v1/drones"): Row(_get("/api/v1/drones"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/drones/alerts"): Row(_get("/api/v1/drones/alerts"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/drones/tracks.geojson"): Row(_get("/api/v1/drones/tracks.geojson"), EVERYONE, EVERYONE),
    ("GET", "/api/v1/drones.cot"): Row(_get("/api/v1/drones.cot"), EVERYONE, EVERYONE),
}
WEBSOCKETS = {
    "/api/v1/ws": "each connection receives exactly the incidents its user may view",
    "/api/v1/incidents/{incident_id}/live": (
        "evidence.view on the incident (403 and audited otherwise), re-checked every second:"
        " tests/unit/api/test_api_live_video.py"
    ),
    "/api/v1/cameras/{camera_id}/live": (
        "evidence.view of the camera's area: owners in jurisdiction, others only under a grant"
        " (403 and audited otherwise), re-checked every second: tests/unit/api/test_api_live_video.py"
    ),
}
CALLERS: list[tuple[Role, bool]] = [(role, inside) for inside in (True, False) for role in Role]


def _route_keys(app: FastAPI) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for route in iter_routes(app.routes):
        if isinstance(route, APIRoute):
            keys.extend((method, route.path) for method in sorted(route.methods or ()) if method != "HEAD")
        elif isinstance(route, APIWebSocketRoute):
            keys.append(("WS", route.path))
        elif isinstance(route, Mount):
            keys.append(("GET", route.path))
        else:
            keys.append((type(route).__name__, str(getattr(route, "path", route))))
    return keys


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The seeded hub every route starts from."""
    return seed(tmp_path_factory.mktemp("matrix") / "template", slots=SLOTS, with_workflow=True)


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(jwt_secret=SecretStr("matrix-signing-key-" + "k" * 32))


@pytest.fixture
def world(template: World, tmp_path: Path) -> World:
    return copy_world(template, tmp_path / "hub")


@pytest.fixture
def hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root, policy=open_condition_policy(approval=True))
    yield service
    service.database.close()


@pytest.fixture
def client(hub: HubService, settings: ApiSettings) -> Iterator[TestClient]:
    cameras = config_service(hub, CAMERA_SITE, RecordingBus())
    with TestClient(create_app(hub, settings, camera_config=cameras)) as test_client:
        yield test_client


def _token(client: TestClient, hub: HubService, name: str) -> str:
    user = hub.identity.users.get(name)
    if user is None:
        raise AssertionError(f"seeded user {name} missing")
    token: str = client.app.state.hwarang.tokens.issue(user)  # type: ignore[attr-defined]
    return token


def _send(client: TestClient, call: Call, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response: httpx.Response = client.request(
        call.method,
        call.url,
        json=call.json,
        params=call.params,
        data=call.data,
        files=call.files,
        headers=headers,
    )
    return response


def _outcome(row: Row, response: httpx.Response, world: World, *, inside: bool) -> str:
    if response.status_code == 403:
        return "denied"
    if not 200 <= response.status_code < 300:
        return f"status {response.status_code}: {response.text[:300]}"
    if row.sees is not None:
        return "ok" if row.sees(response, world) else "hidden"
    if row.hidden_outside and not inside:  # a list that must come back empty
        return "hidden" if response.json() == [] else f"not empty: {response.text[:300]}"
    return "ok"


def test_every_route_has_a_row(app_routes: list[tuple[str, str]]) -> None:
    missing = [
        key for key in app_routes if key not in MATRIX and not (key[0] == "WS" and key[1] in WEBSOCKETS)
    ]
    stale = [key for key in MATRIX if key not in app_routes]

    assert missing == [], f"routes without a row in the authorisation matrix: {missing}"
    assert stale == [], f"matrix rows of routes the app no longer has: {stale}"


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    hub = open_hub(tmp_path_factory.mktemp("routes"))
    try:
        app = create_app(hub, ApiSettings(jwt_secret=SecretStr("r" * 40)))
        return _route_keys(app)
    finally:
        hub.database.close()


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: f"{key[0]} {key[1]}")
def test_route_by_role_and_jurisdiction(
    key: tuple[str, str], app_routes: list[tuple[str, str]], world: World, hub: HubService, client: TestClient
) -> None:
    if key not in app_routes:
        pytest.fail(f"{key} is in the matrix but not in the app (see test_every_route_has_a_row)")
    row = MATRIX[key]
    got: dict[str, str] = {}
    want: dict[str, str] = {}
    for slot, (role, inside) in enumerate(CALLERS):
        name = seeded_username(role, inside)
        call = row.build(Ctx(world, client, slot, name))
        label = f"{role.value}/{'in' if inside else 'out'}"
        token = _token(client, hub, name)
        denials = len(hub.audit.entries(action="access.denied", actor=name, limit=10_000))
        got[label] = _outcome(row, _send(client, call, token), world, inside=inside)
        if (
            got[label] == "denied"
            and len(hub.audit.entries(action="access.denied", actor=name, limit=10_000)) == denials
        ):
            got[label] = "denied, not audited"
        want[label] = row.expected(role, inside)
    anonymous = _send(client, row.build(Ctx(world, client, ANONYMOUS_SLOT, None)), None)
    got["anonymous"] = "public" if 200 <= anonymous.status_code < 300 else str(anonymous.status_code)
    want["anonymous"] = "public" if row.public else "401"

    assert got == want


def _first_after_resume(client: TestClient, token: str) -> dict[str, Any]:
    with client.websocket_connect(f"/api/v1/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_json({"type": "resume", "after_seq": 0})
        ws.send_json({"type": "ping"})
        message: dict[str, Any] = ws.receive_json()
        return message


@pytest.mark.parametrize(
    ("role", "inside"), CALLERS, ids=[f"{r.value}-{'in' if i else 'out'}" for r, i in CALLERS]
)
def test_live_stream_by_role_and_jurisdiction(
    role: Role, inside: bool, world: World, hub: HubService, client: TestClient
) -> None:
    first = _first_after_resume(client, _token(client, hub, seeded_username(role, inside)))

    if inside:  # every role may view the (shared) incidents of its jurisdiction
        seeded = {*world.incidents, *world.spares}
        assert first["type"] == "incident" and uuid.UUID(first["incident"]["id"]) in seeded
    else:
        assert first == {"schema_version": 1, "type": "pong"}
