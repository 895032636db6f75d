"""``hwarang nats``: NATS server configuration for leaf nodes and hubs."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.common import (
    console,
    err,
)

app = typer.Typer(help="NATS server configuration for leaf nodes and hubs.", no_args_is_help=True)


@app.command("config")
def nats_config(
    role: Annotated[str, typer.Option(help="leaf (a center), regional or national hub.")],
    node_id: Annotated[str, typer.Option("--id", help="Center id (leaf), region id (regional) or hub id.")],
    out: Annotated[Path, typer.Option(help="Directory for <name>.conf and <name>.secrets.conf.")] = Path(
        "nats"
    ),
    store_dir: Annotated[Path | None, typer.Option(help="JetStream store directory.")] = None,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Client port.")] = 4222,
    http_port: Annotated[int, typer.Option(help="Monitoring port (/healthz).")] = 8222,
    leaf_port: Annotated[int, typer.Option(help="Hubs: port accepting leaf nodes.")] = 7422,
    uplink: Annotated[
        list[str] | None, typer.Option(help="nats-leaf://HOST:PORT of the upstream hub.")
    ] = None,
    leaf: Annotated[list[str] | None, typer.Option(help="Hubs: a downstream leaf id (repeat).")] = None,
    direct_center: Annotated[
        list[str] | None, typer.Option(help="Hubs: a center whose edge connects without a leaf.")
    ] = None,
    agency: Annotated[
        list[str] | None, typer.Option(help="Agency liaison users (default: all four).")
    ] = None,
    secrets: Annotated[Path | None, typer.Option(help="Password store (default OUT/secrets.json).")] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Server certificate: turns on mutual TLS for clients and leaf links.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Key of --tls-cert (mode 0600).")] = None,
    tls_ca: Annotated[Path | None, typer.Option(help="CA that signed the peers' certificates.")] = None,
    auth: Annotated[
        str,
        typer.Option(
            help="'password' users, or 'jwt': operator/account/user JWTs with nkeys (.creds files)."
        ),
    ] = "password",
    operator_keys: Annotated[
        Path | None,
        typer.Option(help="JWT mode: operator and account seeds (default OUT/operator-keys.json)."),
    ] = None,
) -> None:
    """Write a nats-server config for one role, with generated passwords in 0600 secrets files."""
    from hwarang.bus import BusError
    from hwarang.bus.natsconfig import AGENCIES, Listen, TlsFiles, generate

    if role not in ("leaf", "regional", "national"):
        err.print(f"[bold red]--role must be leaf, regional or national, not {escape(role)!r}[/]")
        raise typer.Exit(2)
    tls_given = [p for p in (tls_cert, tls_key, tls_ca) if p is not None]
    if tls_given and len(tls_given) != 3:
        err.print("[bold red]--tls-cert, --tls-key and --tls-ca go together[/]")
        raise typer.Exit(2)
    tls = TlsFiles(tls_cert, tls_key, tls_ca) if tls_cert and tls_key and tls_ca else None
    if auth not in ("password", "jwt"):
        err.print(f"[bold red]--auth must be password or jwt, not {escape(auth)!r}[/]")
        raise typer.Exit(2)
    try:
        authority = None
        if auth == "jwt":
            from hwarang.bus.natsjwt import NatsAuthority

            authority = NatsAuthority.load_or_create(operator_keys or out / "operator-keys.json")
        result = generate(
            role,  # type: ignore[arg-type]
            node_id,
            out,
            store_dir=store_dir or Path("/var/lib/hwarang/nats") / f"{role}-{node_id}",
            listen=Listen(host, port, http_port, None if role == "leaf" else leaf_port),
            uplink_urls=uplink or (),
            leaves=leaf or (),
            direct_centers=direct_center or (),
            agencies=agency or AGENCIES,
            secrets_path=secrets,
            tls=tls,
            authority=authority,
        )
    except BusError as exc:
        err.print(f"[bold red]error[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"wrote {result.config_path} (JetStream domain {result.domain})", highlight=False)
    if result.creds:
        console.print(
            f"user credentials (mode 0600): {', '.join(str(p) for p in result.creds.values())}",
            highlight=False,
        )
    else:
        console.print(
            f"secrets in {result.secrets_path} (mode 0600; users: {', '.join(sorted(result.users))})",
            highlight=False,
        )
