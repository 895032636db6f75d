"""``hwarang audit``: verify the audit trail's hash chain, list records.

Commands that read the site database find it as the hub does: ``--database-url`` when given,
else ``hub.database_url`` of ``--config``, else ``hub.db`` (SQLite) in the config's ``hub.data_dir``.
They never migrate the database; point them at a hub that has started at least once.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwarang.commands.common import ConfigOption, console, err, fail, load_config_or_exit

if TYPE_CHECKING:
    from hwarang.config import AppConfig
    from hwarang.hub.store.db import Database

app = typer.Typer(help="The hash-chained audit trail: verify it, list records.", no_args_is_help=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the hub database (overrides the config), e.g. postgresql+psycopg://...",
        envvar="HWARANG_DATABASE_URL",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DETAIL_WIDTH = 60
"""Characters of ``detail`` shown in the table (``--json`` shows all)."""


def site_database_url(cfg: "AppConfig") -> str:
    """The hub's database URL, by the same rule as ``hwarang.runtime.embedded.database_url``."""
    if cfg.hub.database_url:
        return cfg.hub.database_url
    return f"sqlite:///{(cfg.hub.data_dir / 'hub.db').resolve()}"


def resolve_site(config: Path | None, database_url: str | None) -> tuple[str, "AppConfig | None"]:
    """The database URL to use and the config it came from (None when only a URL was given)."""
    if database_url and config is None:
        return database_url, None
    cfg = load_config_or_exit(config)
    return database_url or site_database_url(cfg), cfg


@contextmanager
def open_database(url: str) -> Iterator["Database"]:
    """The hub database at ``url`` (not migrated); exit 2 when it is not there or unreachable."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from hwarang.hub.errors import StoreError
    from hwarang.hub.store.db import Database, mask_url

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise fail(f"invalid database URL {mask_url(url)!r}: {exc}", 2) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        raise fail(
            f"no hub database at {parsed.database}: start the hub once, or pass --config / --database-url", 2
        )
    try:
        database = Database(url)
        database.check()
    except StoreError as exc:
        raise fail(str(exc), 2) from None
    try:
        yield database
    finally:
        database.close()


CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Folder holding audit-checkpoints.jsonl and its key (default: the config's hub.data_dir).",
    ),
]


@app.command("verify")
def audit_verify(
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    checkpoints: CheckpointsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every record's hash and link, compare the head with the checkpoints kept outside the
    database; exit 1 naming the first edited, deleted or inserted record, or a truncated trail."""
    from hwarang.hub.errors import StoreError
    from hwarang.hub.evidence.chain import verify_chain
    from hwarang.hub.evidence.checkpoints import CheckpointError, CheckpointFile, check_against_checkpoints

    url, cfg = resolve_site(config, database_url)
    folder = checkpoints or (cfg.hub.data_dir if cfg is not None else None)
    with open_database(url) as database:
        progress = Progress(
            TextColumn("verifying audit trail"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        task = progress.add_task("verify", total=None)
        try:
            with progress:
                report = verify_chain(
                    database, progress=lambda done, total: progress.update(task, completed=done, total=total)
                )
            if folder is not None:
                latest = CheckpointFile(folder).latest()
                report = check_against_checkpoints(database, report, latest)
                if latest is None:
                    err.print(f"note: no audit checkpoints in {folder}; truncation not checked")
            else:
                err.print(
                    "note: no checkpoints folder (give --config or --checkpoints); truncation not checked"
                )
        except CheckpointError as exc:
            raise fail(f"audit checkpoints: {exc}", 1) from None
        except StoreError as exc:
            raise fail(str(exc), 2) from None
    if as_json:
        console.print_json(report.model_dump_json())
    elif report.ok:
        console.print(
            f"[bold green]ok[/]: {escape(report.summary())} in {report.seconds:.1f} s", highlight=False
        )
    if not report.ok:
        raise fail(f"audit trail of {database.masked_url}: {report.summary()}", 1)


@app.command("list")
def audit_list(
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most records shown.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, or a prefix ending in '.'.")] = None,
    target: Annotated[str | None, typer.Option(help="Only targets containing this text.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The newest audit records, newest first."""
    from hwarang.hub.errors import StoreError
    from hwarang.hub.evidence.audit import query_audit

    url, _cfg = resolve_site(config, database_url)
    with open_database(url) as database:
        try:
            with database.session() as session:
                entries = query_audit(session, limit=limit, actor=actor, action=action, target=target)
        except StoreError as exc:
            raise fail(str(exc), 2) from None
    if as_json:
        console.print_json(json.dumps([entry.model_dump(mode="json") for entry in entries]))
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("at (UTC)")
    table.add_column("actor", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("target", overflow="fold", min_width=16)
    table.add_column("detail", overflow="fold", min_width=16)
    table.add_column("hash", no_wrap=True)
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(entry.actor),
            escape(entry.action),
            escape(entry.target),
            escape(_short(json.dumps(entry.detail, ensure_ascii=False, separators=(",", ":")))),
            (entry.hash or "")[:8],
        )
    console.print(table)


def _short(text: str, limit: int = DETAIL_WIDTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
