"""``hwarang certs``: a site CA and server/client certificates (tests, small sites)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.common import console, err

app = typer.Typer(
    help="A site CA and TLS certificates for the API and NATS (or use your agency's PKI).",
    no_args_is_help=True,
)


@app.command("ca")
def ca(
    out: Annotated[Path, typer.Option(help="Directory for ca.crt and ca.key (0600).")] = Path("certs"),
    org: Annotated[str, typer.Option(help="Organisation named in the certificates.")] = "Hwarang site",
) -> None:
    """Make the site CA (once)."""
    from hwarang.runtime.certs import CertError, make_ca

    try:
        made = make_ca(out, org=org)
    except (CertError, OSError) as exc:
        err.print(f"[bold red]error[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"CA certificate {made.cert}, key {made.key} (mode 0600: keep it offline)", highlight=False)


@app.command("issue")
def issue(
    name: Annotated[str, typer.Argument(help="File name: NAME.crt and NAME.key.")],
    ca_dir: Annotated[Path, typer.Option("--ca", help="Directory of the site CA.")] = Path("certs"),
    host: Annotated[
        list[str] | None, typer.Option(help="DNS name or IP the server is reached at (repeat).")
    ] = None,
    server: Annotated[bool, typer.Option(help="Server use (API, nats-server listeners).")] = True,
    client: Annotated[bool, typer.Option(help="Client use (edges, leaf links, hub bus clients).")] = True,
    out: Annotated[Path | None, typer.Option(help="Directory for the files (default: the CA's).")] = None,
) -> None:
    """Issue a certificate signed by the site CA."""
    from hwarang.runtime.certs import CertError
    from hwarang.runtime.certs import issue as issue_cert

    try:
        made = issue_cert(ca_dir, name, hosts=host or [], server=server, client=client, out_dir=out)
    except (CertError, OSError) as exc:
        err.print(f"[bold red]error[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"certificate {made.cert}, key {made.key} (mode 0600)", highlight=False)
