"""``hwarang models``: the air-gapped model store."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hwarang.commands.common import (
    console,
    err,
)

app = typer.Typer(help="The model store: import and list detector models (no network).", no_args_is_help=True)


StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Model store folder (default: $HWARANG_MODEL_STORE or var/models)."),
]


@app.command("import")
def models_import(
    path: Annotated[
        Path, typer.Argument(help="Model file: .onnx, or an OpenVINO .xml with its .bin beside it.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Name detectors use (`model: NAME`); default: file stem.")
    ] = None,
    runtime: Annotated[
        str | None, typer.Option(help="onnx or openvino; default: from the extension.")
    ] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the weights, e.g. Apache-2.0.")] = None,
    labels: Annotated[
        str | None, typer.Option(help="Comma-separated class names by output id, if the file has none.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Check PATH is a model, copy it into the model store with its SHA-256 and a model card."""
    from hwarang.edge.models import RUNTIMES, ModelStore, ModelStoreError

    if runtime is not None and runtime not in RUNTIMES:
        err.print(f"[bold red]error[/]: --runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        raise typer.Exit(2)
    label_list = [part.strip() for part in labels.split(",") if part.strip()] if labels else None
    try:
        card = ModelStore(store).import_model(
            path,
            name=name,
            runtime=runtime,
            licence=licence,
            labels=label_list,
        )
    except ModelStoreError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    console.print(
        f"imported [bold]{escape(card.name)}[/] ({card.runtime}, input {card.input_shape}, "
        f"sha256 {card.sha256[:16]}...); use `model: {escape(card.name)}` in a detector config",
        highlight=False,
    )


@app.command("list")
def models_list(
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model cards as JSON.")] = False,
) -> None:
    """List the models in the store."""
    from hwarang.edge.models import ModelStore, ModelStoreError

    model_store = ModelStore(store)
    try:
        cards = model_store.list()
    except ModelStoreError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps([card.model_dump(mode="json") for card in cards], indent=2) + "\n")
        return
    if not cards:
        console.print(
            f"no models in {escape(str(model_store.root))}; add one with `hwarang models import PATH`"
        )
        return
    table = Table("name", "runtime", "input", "labels", "licence", "sha256")
    for card in cards:
        labels_text = "-" if card.labels is None else f"{len(card.labels)}: {', '.join(card.labels[:4])}..."
        table.add_row(
            card.name, card.runtime, str(card.input_shape), labels_text, card.licence or "-", card.sha256[:16]
        )
    console.print(table)
