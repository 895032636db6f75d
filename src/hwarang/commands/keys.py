"""``hwarang keys``: center signing keys (Ed25519) for event provenance."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.common import console, err

app = typer.Typer(help="Center signing keys (Ed25519) for event provenance.", no_args_is_help=True)


@app.command("generate")
def generate(
    center: Annotated[str, typer.Option(help="Center id the key signs for.")],
    out: Annotated[Path, typer.Option(help="Directory for <center>.key (0600) and <center>.pub.")] = Path(
        "keys"
    ),
) -> None:
    """Make a center's signing key: the private key stays at the edge, the .pub goes to the hubs."""
    import re

    from hwarang.edge.errors import EdgeError
    from hwarang.edge.signing import generate_key, public_key_text

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", center):
        err.print(f"[bold red]error[/] center id {escape(center)!r}: use a-z, 0-9, '-' or '_'")
        raise typer.Exit(2)
    key_path, pub_path = out / f"{center}.key", out / f"{center}.pub"
    try:
        key = generate_key(key_path)
    except (EdgeError, OSError) as exc:
        err.print(f"[bold red]error[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    public = public_key_text(key)
    pub_path.write_text(public + "\n", encoding="utf-8")
    console.print(
        f"private key {key_path} (mode 0600): edge site file, edge.centers[].signing_key", highlight=False
    )
    console.print(
        f"public key  {pub_path}: register at every hub under hub.provenance.centers", highlight=False
    )
    console.print(f"  - id: {center}\n    public_key: {public}", highlight=False)
