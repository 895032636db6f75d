"""``hwarang regions``: Korean administrative regions and the exercise zones."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hwarang.commands.common import (
    console,
    err,
)

app = typer.Typer(help="Korean administrative regions and Hwarang exercise zones.", no_args_is_help=True)


@app.command("lookup")
def regions_lookup(
    lat: Annotated[float, typer.Argument(help="Latitude (WGS84).")],
    lon: Annotated[float, typer.Argument(help="Longitude (WGS84).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which sido, local government and exercise zone a point lies in."""
    from hwarang.geo.errors import GeoError
    from hwarang.geo.regions import default_catalog

    try:
        found = default_catalog().lookup(lat, lon)
    except GeoError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if found is None:
        err.print(f"{lat}, {lon} is not inside a Korean administrative region (at sea or abroad)")
        raise typer.Exit(1)
    if as_json:
        console.print_json(found.model_dump_json())
        return
    zone = f"zone {found.zone_id} {found.zone_name}" if found.zone_id is not None else "no exercise zone"
    console.print(
        f"{found.sido_name} {found.sigungu_name or ''}  (sido {found.sido_code}, "
        f"local government {found.sigungu_code}; {zone})",
        highlight=False,
    )


@app.command("list")
def regions_list(
    sido: Annotated[str | None, typer.Option(help="List the local governments of this sido code.")] = None,
) -> None:
    """List the 17 sido, or the local governments of one sido."""
    from hwarang.geo.errors import GeoError
    from hwarang.geo.regions import default_catalog

    catalog = default_catalog()
    try:
        regions = catalog.sidos() if sido is None else catalog.sigungus(sido)
    except GeoError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    table = Table("code", "name")
    for region in regions:
        table.add_row(region.code, region.name)
    console.print(table)


@app.command("zones")
def regions_zones() -> None:
    """The 11 Hwarang exercise zones and the sido in each (configuration)."""
    from hwarang.geo.regions import default_catalog
    from hwarang.geo.zones import load_zones

    catalog = default_catalog()
    table = Table("zone", "name", "sido")
    for zone in load_zones().zones:
        names = ", ".join(catalog.get(code).name for code in zone.sido_codes)
        table.add_row(str(zone.id), f"{zone.name} ({zone.name_en})", names)
    console.print(table)
