"""Agencies known to the hub, and the agency-kind and grant lookups the sharing policy uses."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select

from hwarang.domain import Agency, AgencyKind, Grant
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import AgencyRow, GrantRow

DEFAULT_AGENCIES: tuple[Agency, ...] = (
    Agency(
        code="idhq",
        name="통합방위지원본부 (Integrated Defense Support HQ)",
        kind=AgencyKind.INTEGRATED_DEFENSE_HQ,
    ),
    Agency(
        code="mois",
        name="행정안전부 (Ministry of the Interior and Safety)",
        kind=AgencyKind.INTERIOR_MINISTRY,
    ),
)
"""Registered at first start: the administrator belongs to ``idhq``."""


def agency_from_row(row: AgencyRow) -> Agency:
    """The domain agency of a row."""
    return Agency(
        code=row.code, name=row.name, kind=AgencyKind(row.kind), jurisdiction_code=row.jurisdiction_code
    )


def grant_from_row(row: GrantRow) -> Grant:
    """The domain grant of a row."""
    return Grant(
        id=row.id,
        condition_id=row.condition_id,
        agency_kind=None if row.agency_kind is None else AgencyKind(row.agency_kind),
        agency_code=row.agency_code,
        area_codes=tuple(row.area_codes),
        permissions=tuple(row.permissions),
        starts_at=row.starts_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class AgencyStore:
    """Reads and registers agencies; answers the sharing policy's lookups."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def upsert(self, agencies: Iterable[Agency], *, actor: str = "system") -> None:
        """Insert or replace agencies (each audited as ``agency.upsert``)."""
        with self._db.session(write=True) as session:
            for agency in agencies:
                session.merge(
                    AgencyRow(
                        code=agency.code,
                        name=agency.name,
                        kind=agency.kind.value,
                        jurisdiction_code=agency.jurisdiction_code,
                    )
                )
                add_audit(
                    session, actor, "agency.upsert", f"agency:{agency.code}", {"kind": agency.kind.value}
                )

    def ensure_defaults(self) -> None:
        """Register :data:`DEFAULT_AGENCIES` that are missing (existing ones are left alone)."""
        with self._db.session() as session:
            known = set(session.scalars(select(AgencyRow.code)))
        missing = [agency for agency in DEFAULT_AGENCIES if agency.code not in known]
        if missing:
            self.upsert(missing, actor="system:bootstrap")

    def list(self) -> list[Agency]:
        """Every agency, by code."""
        with self._db.session() as session:
            return [agency_from_row(r) for r in session.scalars(select(AgencyRow).order_by(AgencyRow.code))]

    def get(self, code: str) -> Agency | None:
        """The agency, or None."""
        with self._db.session() as session:
            row = session.get(AgencyRow, code)
            return None if row is None else agency_from_row(row)

    def kind_of(self, code: str) -> AgencyKind | None:
        """The kind of agency ``code`` (None when unknown)."""
        agency = self.get(code)
        return None if agency is None else agency.kind

    def active_grants(self, now: datetime) -> Sequence[Grant]:
        """Grants in force at ``now``."""
        stmt = select(GrantRow).where(
            GrantRow.starts_at <= now, GrantRow.expires_at > now, GrantRow.revoked_at.is_(None)
        )
        with self._db.session() as session:
            return [grant_from_row(r) for r in session.scalars(stmt)]
