"""``hwarang incident export`` and ``hwarang evidence verify``: evidence packages."""

import getpass
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.audit import DatabaseUrlOption, open_database, resolve_site
from hwarang.commands.common import ConfigOption, console, err, fail

app = typer.Typer(help="Incidents: export evidence packages.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence packages: check their hashes.", no_args_is_help=True)


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@app.command("export")
def incident_export(
    incident_id: Annotated[uuid.UUID, typer.Argument(help="The incident's id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The ZIP file to write (replaced if present).")],
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    evidence_dir: Annotated[
        Path | None,
        typer.Option(help="The hub's evidence store (default: 'evidence' in the config's hub.data_dir)."),
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who exports, for the audit trail (default cli:<user>).")
    ] = None,
) -> None:
    """Export an incident: events, snapshots, timeline, notes, tasks, attachments, audit excerpt."""
    from hwarang.hub.errors import NotFoundError, StoreError
    from hwarang.hub.evidence.package import export_package
    from hwarang.hub.evidence.store import EvidenceStore

    url, cfg = resolve_site(config, database_url)
    if evidence_dir is None:
        if cfg is None:
            raise fail("--evidence-dir is needed with --database-url alone (or pass --config)", 2)
        evidence_dir = cfg.hub.data_dir / "evidence"
    creator = actor or _cli_actor()
    with open_database(url) as database:
        try:
            built = export_package(
                database,
                EvidenceStore(evidence_dir),
                incident_id,
                out,
                creator=creator,
                detail={"out": str(out.resolve())},
            )
        except NotFoundError as exc:
            raise fail(str(exc), 1) from None
        except (StoreError, OSError) as exc:
            raise fail(f"cannot export incident {incident_id} to {out}: {exc}", 2) from None
    manifest = built.manifest
    console.print(
        f"[bold green]exported[/] incident {incident_id} to {escape(str(out))}: {len(manifest.files)} files, "
        f"{built.size} bytes, {manifest.audit.records} audit records",
        highlight=False,
    )
    for item in manifest.missing:
        err.print(f"[yellow]not included[/]: {escape(item.path)} ({escape(item.reason)})", highlight=False)
    console.print(f"manifest SHA-256 {built.manifest_sha256}", highlight=False)


@evidence_app.command("verify")
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="The evidence package (ZIP).", exists=True, dir_okay=False)],
    manifest_sha256: Annotated[
        str | None, typer.Option(help="The manifest SHA-256 printed at export (or in the audit trail).")
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Recompute every file's SHA-256 against the manifest; exit 1 naming each mismatch.

    With --config or --database-url, also check the audit excerpt and the export record against
    the hub's audit trail.
    """
    from hwarang.hub.errors import StoreError
    from hwarang.hub.evidence.check import check_against_chain, check_package

    check = check_package(package, expected_manifest_sha256=manifest_sha256)
    chained = config is not None or database_url is not None
    if chained and check.manifest is not None:
        url, _cfg = resolve_site(config, database_url)
        with open_database(url) as database:
            try:
                check_against_chain(database, package, check)
            except StoreError as exc:
                raise fail(str(exc), 2) from None
    if not check.ok:
        for problem in check.problems:
            err.print(f"[bold red]mismatch[/]: {escape(problem)}", highlight=False)
        raise fail(f"{package}: {len(check.problems)} problem(s); the package is not intact", 1)
    incident = check.manifest.incident_id if check.manifest else "?"
    against = " and the hub's audit trail" if chained else ""
    console.print(
        f"[bold green]ok[/]: {escape(str(package))}: incident {incident}, {check.files_checked} files match "
        f"the manifest{against}; manifest SHA-256 {check.manifest_sha256}",
        highlight=False,
    )
