"""``hwarang users`` and ``hwarang agencies``: accounts and agencies in the hub's database.

They open the database of the site configuration (migrating it first, as the hub does), so run
them on the hub's host; the API's ``/api/v1/users`` and ``/api/v1/agencies`` do the same remotely.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hwarang.commands.common import ConfigOption, console, fail, load_config_or_exit
from hwarang.domain import Agency, AgencyKind, Classification, Role, User

if TYPE_CHECKING:
    from hwarang.hub.service import HubService

app = typer.Typer(
    help="User accounts: add, list, unlock, set or reset passwords (roles, agency, jurisdiction).",
    no_args_is_help=True,
)
agencies_app = typer.Typer(help="Agencies users belong to: add and list.", no_args_is_help=True)

JurisdictionOption = Annotated[
    str | None,
    typer.Option(
        "--jurisdiction", help="Sido (2-digit) or sigungu (5-digit) code; omitted: the agency's / nationwide."
    ),
]


def _hub(config: Path | None) -> "HubService":
    from hwarang.runtime.embedded import build_hub

    hub = build_hub(load_config_or_exit(config))
    hub.identity.agencies.ensure_defaults()
    return hub


def _read_password(password_file: Path | None, username: str) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise fail(f"cannot read password file {password_file}: {exc.strerror}", 2) from None
    password: str = typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, '_.-').")],
    agency: Annotated[str, typer.Option("--agency", help="Code of a registered agency.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role; repeat for several.")],
    jurisdiction: JurisdictionOption = None,
    clearance: Annotated[
        Classification, typer.Option("--clearance", help="Highest classification the user may read.")
    ] = Classification.RESTRICTED,
    display_name: Annotated[
        str | None, typer.Option("--name", help="Display name; default: username.")
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="Read the password from this file (first line).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Add a user; the password is prompted for twice unless --password-file is given."""
    from pydantic import ValidationError

    from hwarang.hub.errors import ConflictError
    from hwarang.hub.identity.accounts import InvalidAccountError, check_new_user

    try:
        wanted = User(
            username=username,
            display_name=display_name or username,
            agency_code=agency,
            jurisdiction_code=jurisdiction,
            roles=tuple(role),
            clearance=clearance,
        )
    except ValidationError as exc:
        raise fail(f"invalid user: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", 2) from None
    hub = _hub(config)
    if hub.identity.agencies.get(agency) is None:
        known = ", ".join(a.code for a in hub.identity.agencies.list()) or "none"
        raise fail(
            f"agency {agency!r} is not registered; register it first with "
            f"'hwarang agencies add {agency} --name NAME --kind KIND [--jurisdiction CODE]' "
            f"(registered: {known})",
            2,
        )
    password = _read_password(password_file, username)
    try:
        user = check_new_user(wanted, password, hub.identity.agencies, admin=None)
        hub.identity.users.create(user, password, actor="cli")
    except (InvalidAccountError, ConflictError) as exc:
        raise fail(str(exc), 2 if isinstance(exc, InvalidAccountError) else 1) from None
    console.print(
        f"user [bold]{user.username}[/] added: agency {user.agency_code}, roles "
        f"{', '.join(r.value for r in user.roles)}, jurisdiction {user.jurisdiction_code or 'nationwide'}",
        highlight=False,
    )


@app.command("unlock")
def users_unlock(
    username: Annotated[str, typer.Argument(help="The locked account.")],
    config: ConfigOption = None,
) -> None:
    """Clear a lockout after repeated failed logins (audited as ``user.unlock`` by ``cli``)."""
    if not _hub(config).identity.users.unlock(username, actor="cli"):
        raise fail(f"no user {username!r} in this site's hub", 1)
    console.print(f"{username} unlocked: failed-login count cleared")


@app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="Read the password from this file (first line).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (prompted twice); unlocks the account and ends its sessions.

    Audited as ``user.password_set`` by ``cli``. The password rule is the API's: 10 to 256
    characters, no control characters, not the user name.
    """
    from hwarang.hub.identity.passwords import InvalidPasswordError

    hub = _hub(config)
    if hub.identity.users.get(username, include_disabled=True) is None:
        raise fail(f"no user {username!r} in this site's hub", 1)
    password = _read_password(password_file, username)
    try:
        hub.identity.users.set_password(username, password, actor="cli")
    except InvalidPasswordError as exc:
        raise fail(str(exc), 2) from None
    console.print(f"password of {username} set; its sessions end at their next renewal", highlight=False)


@app.command("reset")
def users_reset(
    username: Annotated[str, typer.Argument(help="The account to reset (e.g. a lost admin password).")],
    config: ConfigOption = None,
) -> None:
    """Give a user a new random password, printed once; unlocks the account and ends its sessions.

    Audited as ``user.password_reset`` by ``cli``. Run it on the hub's host (it opens the site's
    database): the way back in when the admin password is lost.
    """
    password = _hub(config).identity.users.reset_password(username, actor="cli")
    if password is None:
        raise fail(f"no user {username!r} in this site's hub", 1)
    console.print(
        f"new password of [bold]{username}[/]: [bold]{password}[/] (shown once; change it after logging in)",
        highlight=False,
    )


@app.command("list")
def users_list(config: ConfigOption = None) -> None:
    """List users with their agency, roles, jurisdiction and clearance."""
    from hwarang.hub.identity.accounts import list_users

    table = Table("username", "agency", "roles", "jurisdiction", "clearance", "disabled")
    for user, disabled in list_users(_hub(config).database):
        table.add_row(
            user.username,
            user.agency_code,
            ", ".join(r.value for r in user.roles),
            user.jurisdiction_code or "nationwide",
            user.clearance.value,
            "yes" if disabled else "",
        )
    console.print(table)


@agencies_app.command("add")
def agencies_add(
    code: Annotated[str, typer.Argument(help="Agency code, e.g. seoul-jongno, army-cdc.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    kind: Annotated[AgencyKind, typer.Option("--kind", help="Kind of agency.")],
    jurisdiction: JurisdictionOption = None,
    config: ConfigOption = None,
) -> None:
    """Register (or update) an agency."""
    from pydantic import ValidationError

    try:
        agency = Agency(code=code, name=name, kind=kind, jurisdiction_code=jurisdiction)
    except ValidationError as exc:
        raise fail(f"invalid agency: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", 2) from None
    _hub(config).identity.agencies.upsert([agency], actor="cli")
    console.print(f"agency [bold]{agency.code}[/] ({agency.kind.value}) registered", highlight=False)


@agencies_app.command("list")
def agencies_list(config: ConfigOption = None) -> None:
    """List registered agencies."""
    table = Table("code", "kind", "jurisdiction", "name")
    for agency in _hub(config).identity.agencies.list():
        table.add_row(agency.code, agency.kind.value, agency.jurisdiction_code or "nationwide", agency.name)
    console.print(table)
