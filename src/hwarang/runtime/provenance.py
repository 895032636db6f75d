"""Wiring provenance into the processes: the hub's verifier, and the embedded demo's site key."""

import logging
from collections.abc import Callable
from pathlib import Path

from hwarang.config import AppConfig
from hwarang.edge.camera_setup import build_camera, build_center
from hwarang.edge.signing import EventSigner, load_or_create_key, load_private_key
from hwarang.geo.regions import default_catalog
from hwarang.hub.sharing.provenance import ProvenanceConfig, ProvenanceVerifier, RegisteredCenter

logger = logging.getLogger(__name__)

Check = Callable[[str, bytes], str | None]


def camera_owners(config: AppConfig) -> dict[str, str]:
    """Camera id -> center id for every camera in the site file."""
    return {camera.id: center.id for center in config.edge.centers for camera in center.cameras}


def hub_check(config: AppConfig, provenance: ProvenanceConfig | None = None) -> Check | None:
    """The ingest loop's provenance check (None: no center registered, nothing checked)."""
    verifier = ProvenanceVerifier.from_config(provenance or config.hub.provenance, camera_owners(config).get)
    if verifier is None:
        logger.warning("no center registered under hub.provenance: event signatures are NOT checked")
        return None
    return verifier.reason


def site_key_path(config: AppConfig) -> Path:
    """The embedded demo's signing key (made at first start)."""
    return config.hub.data_dir / "keys" / "site-signing.key"


def embedded_provenance(config: AppConfig) -> tuple[dict[str, EventSigner], ProvenanceConfig]:
    """Signers and registrations for the demo: one site key, unless a center names its own.

    Centers already registered under ``hub.provenance`` are kept as configured.
    """
    lookup = default_catalog().lookup
    registered = {c.id: c for c in config.hub.provenance.centers}
    signers: dict[str, EventSigner] = {}
    site_key = None
    for center_cfg in config.edge.centers:
        if center_cfg.signing_key is not None:
            signer = EventSigner(center_cfg.id, load_private_key(center_cfg.signing_key))
        else:
            site_key = site_key or load_or_create_key(site_key_path(config))
            signer = EventSigner(center_cfg.id, site_key)
        signers[center_cfg.id] = signer
        if center_cfg.id in registered:
            continue
        center = build_center(center_cfg, lookup)
        cameras = [build_camera(c, center, lookup) for c in center_cfg.cameras]
        others = sorted({c.sigungu_code for c in cameras} - {center.sigungu_code})
        registered[center.id] = RegisteredCenter(
            id=center.id,
            public_key=signer.public_key,
            sido_code=center.sido_code,
            sigungu_code=center.sigungu_code,
            other_sigungu_codes=others,
            cameras=[c.id for c in cameras],
        )
    return signers, ProvenanceConfig(centers=list(registered.values()))
