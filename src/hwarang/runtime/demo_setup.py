"""Adjusting a configuration for ``hwarang demo``: command-line overrides and missing demo media."""

from collections.abc import Iterable
from pathlib import Path

from hwarang.config import AppConfig
from hwarang.domain import Agency, AgencyKind, Camera, Role, User
from hwarang.edge.config import CameraConfig

DEMO_PARTNERS: tuple[tuple[str, AgencyKind, str], ...] = (
    ("army", AgencyKind.MILITARY, "지역방위사단 (regional army division)"),
    ("police", AgencyKind.POLICE, "시도경찰청 (metropolitan police)"),
    ("fire", AgencyKind.FIRE, "소방본부 (fire headquarters)"),
    ("coast-guard", AgencyKind.COAST_GUARD, "지방해양경찰청 (regional coast guard)"),
    ("infra", AgencyKind.INFRASTRUCTURE, "국가중요시설 운영자 (key-infrastructure operator)"),
)
"""Partner agencies the demo registers for each sido that has cameras."""
NATIONAL_PARTNERS: tuple[Agency, ...] = (
    Agency(code="nis", name="국가정보원 (National Intelligence Service)", kind=AgencyKind.INTELLIGENCE),
)
"""Nationwide partners the demo registers (``idhq`` and ``mois`` exist in every hub)."""
_DEMO_ROLES: dict[AgencyKind, tuple[tuple[str, Role], ...]] = {
    AgencyKind.LOCAL_GOVERNMENT: (("op", Role.OPERATOR), ("head", Role.HEAD_OF_LOCAL_GOVERNMENT)),
    AgencyKind.INTEGRATED_DEFENSE_HQ: (("cmd", Role.COMMANDER),),
    AgencyKind.INTERIOR_MINISTRY: (("cmd", Role.COMMANDER),),
    AgencyKind.MILITARY: (("cmd", Role.COMMANDER), ("op", Role.OPERATOR)),
    AgencyKind.POLICE: (("liaison", Role.AGENCY_LIAISON),),
    AgencyKind.COAST_GUARD: (("liaison", Role.AGENCY_LIAISON),),
    AgencyKind.FIRE: (("liaison", Role.AGENCY_LIAISON),),
    AgencyKind.INTELLIGENCE: (("cmd", Role.COMMANDER),),
    AgencyKind.INFRASTRUCTURE: (("liaison", Role.AGENCY_LIAISON),),
}
"""The demo user(s) of each agency kind: ``<agency>-<suffix>`` with that role."""


def _source_path(camera: CameraConfig) -> Path | None:
    path = getattr(camera.source, "path", None)
    return path if isinstance(path, Path) else None


def prepare_demo_config(
    config: AppConfig, *, host: str | None, port: int | None, data_dir: Path | None
) -> tuple[AppConfig, list[str]]:
    """Apply overrides; say which file cameras have no video. Returns the config and notes to show.

    A camera whose video is missing still runs: it keeps trying to open its file and shows as
    ``down`` on the map with the reason, so the operator sees the camera exists and why it is dark.
    """
    notes: list[str] = []
    playable = []
    for center in config.edge.centers:
        for camera in center.cameras:
            path = _source_path(camera)
            if camera.enabled and path is not None and not path.is_file():
                notes.append(
                    f"camera {camera.id}: video file {path} not found: the camera is down "
                    "(red on the map, with the reason; run 'make media' to fetch vtest.avi from "
                    "Debian's opencv-doc package); the demo continues with the other cameras"
                )
            elif camera.enabled:
                playable.append(camera)
    api = config.api.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    hub = config.hub if data_dir is None else config.hub.model_copy(update={"data_dir": data_dir})
    if not playable:
        notes.append("no camera can run: the demo serves the hub only")
    notes.extend(_missing_model_notes(playable))
    return config.model_copy(update={"api": api, "hub": hub}), notes


def _missing_model_notes(cameras: Iterable[CameraConfig]) -> list[str]:
    """A WARNING-worthy note per camera whose detector model is not in the store (it runs motion-only)."""
    from hwarang.edge.analytics.detectors import ModelDetectorConfigBase
    from hwarang.edge.models import ModelStore, ModelStoreError, default_store_root

    notes = []
    for camera in cameras:
        detector = camera.detector
        if not isinstance(detector, ModelDetectorConfigBase) or detector.model is None:
            continue
        store = ModelStore(detector.model_store or default_store_root())
        try:
            known = {card.name for card in store.list()}
        except ModelStoreError:
            known = set()
        if detector.model not in known:
            notes.append(
                f"WARNING camera {camera.id}: model {detector.model!r} is not in the model store "
                f"{store.root} (run 'make models'): it falls back to the MOTION-ONLY detector, whose "
                "object classes are shape guesses; see docs/models.md"
            )
    return notes


def demo_agencies(config: AppConfig, cameras: Iterable[Camera]) -> list[Agency]:
    """The demo's agencies: each center as its local government, and partners for each sido.

    With them registered, need-to-know is visible in the demo: a user of the army division sees
    nothing of the municipal cameras until a condition is declared for its area (``admin`` sees all).
    """
    names = {center.id: center.name for center in config.edge.centers}
    agencies: dict[str, Agency] = {}
    for camera in cameras:
        agencies.setdefault(
            camera.center_id,
            Agency(
                code=camera.center_id,
                name=names.get(camera.center_id, camera.center_id),
                kind=AgencyKind.LOCAL_GOVERNMENT,
                jurisdiction_code=camera.sigungu_code,
            ),
        )
        for prefix, kind, name in DEMO_PARTNERS:
            code = f"{prefix}-{camera.sido_code}"
            agencies.setdefault(
                code,
                Agency(
                    code=code,
                    name=f"{name} {camera.sido_code}",
                    kind=kind,
                    jurisdiction_code=camera.sido_code,
                ),
            )
    for agency in NATIONAL_PARTNERS:
        agencies.setdefault(agency.code, agency)
    return sorted(agencies.values(), key=lambda agency: agency.code)


def demo_users(agencies: Iterable[Agency]) -> list[User]:
    """One user per agency (two for local governments and the military: operator and head or
    commander), named ``<agency>-<op|head|cmd|liaison>``, with the agency's jurisdiction."""
    users = []
    for agency in agencies:
        for suffix, role in _DEMO_ROLES.get(agency.kind, ()):
            name = f"{agency.code}-{suffix}"
            users.append(
                User(
                    username=name,
                    display_name=f"{agency.name} {suffix}",
                    agency_code=agency.code,
                    jurisdiction_code=agency.jurisdiction_code,
                    roles=(role,),
                )
            )
    return users
