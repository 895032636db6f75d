"""The condition policy: who may declare which condition for which area, which grants it opens for
how long, and whether the local government's authority must approve before the grants are in force.

The defaults (``condition_policy.yaml`` next to this module, with the legal basis of each kind)
are documented in docs/sharing.md; a site may load its own file with :meth:`ConditionPolicy.load`.
"""

from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from hwarang.domain import AgencyKind, ConditionKind, Role, User
from hwarang.hub.sharing.policy import AccessDeniedError, in_area

DEFAULT_POLICY_FILE = Path(__file__).with_name("condition_policy.yaml")
Approval = Literal["local_government", "none"]


class Declarers(BaseModel):
    """Who may declare a kind: one of the agency kinds and one of the roles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency_kinds: tuple[AgencyKind, ...] = Field(min_length=1, description="Agency kinds that may declare.")
    roles: tuple[Role, ...] = Field(min_length=1, description="Roles that may declare.")


class KindRule(BaseModel):
    """The rule of one condition kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_basis: str = Field(min_length=1, description="The law the condition rests on.")
    declarers: Declarers
    grantee_kinds: tuple[AgencyKind, ...] = Field(description="Agency kinds the condition opens grants for.")
    max_hours: int = Field(ge=1, le=30 * 24, description="Longest the condition may run, in hours.")
    approval: Approval = Field(description="Whose approval the grants wait for.")

    @property
    def max_duration(self) -> timedelta:
        """:attr:`max_hours` as a duration."""
        return timedelta(hours=self.max_hours)


class ConditionPolicy(BaseModel):
    """Every kind's rule (the file's ``kinds``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    kinds: dict[ConditionKind, KindRule]

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY_FILE) -> "ConditionPolicy":
        """Read and validate a policy file; ValueError naming the file and the problem."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            policy = cls.model_validate(data)
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ValueError(f"condition policy {path}: {exc}") from exc
        missing = sorted(kind.value for kind in ConditionKind if kind not in policy.kinds)
        if missing:
            raise ValueError(f"condition policy {path}: no rule for {', '.join(missing)}")
        return policy

    def rule(self, kind: ConditionKind) -> KindRule:
        """The rule of ``kind``."""
        return self.kinds[kind]

    def check_declarer(self, user: User, agency_kind: AgencyKind | None, kind: ConditionKind) -> None:
        """AccessDeniedError unless ``user`` (of ``agency_kind``) may declare ``kind``; admins may."""
        if Role.ADMIN in user.roles:
            return
        who = self.rule(kind).declarers
        if agency_kind not in who.agency_kinds or not set(who.roles).intersection(user.roles):
            names = ", ".join(k.value for k in who.agency_kinds)
            roles = ", ".join(r.value for r in who.roles)
            raise AccessDeniedError(
                f"{kind.value} conditions are declared by {names} ({roles}); "
                f"your agency kind {agency_kind.value if agency_kind else 'unknown'} may not"
            )


def approves(user: User, agency_kind: AgencyKind | None, area_codes: tuple[str, ...]) -> bool:
    """True when ``user`` is the local government's authority over every area: the head of a local
    government whose jurisdiction covers them (administrators too, as a break-glass, audited)."""
    if Role.ADMIN in user.roles:
        return all(in_area(code, user.jurisdiction_code) for code in area_codes)
    return (
        agency_kind is AgencyKind.LOCAL_GOVERNMENT
        and Role.HEAD_OF_LOCAL_GOVERNMENT in user.roles
        and user.jurisdiction_code is not None
        and all(in_area(code, user.jurisdiction_code) for code in area_codes)
    )
