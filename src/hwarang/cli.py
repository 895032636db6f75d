"""The ``hwarang`` command line: assembles the sub-commands of ``hwarang.commands``."""

import typer

from hwarang.commands import (
    analyze,
    audit,
    certs,
    config_files,
    demo,
    evaluate,
    exercise,
    incidents,
    keys,
    models,
    nats,
    processes,
    regions,
    users,
)

app = typer.Typer(help="Hwarang: integrated defense information sharing.", no_args_is_help=True)
app.command()(demo.version)
app.command()(demo.demo)
app.command()(analyze.analyze)
app.command()(processes.hub)
app.command()(processes.edge)
app.command()(processes.simulate)
app.add_typer(regions.app, name="regions")
app.add_typer(config_files.app, name="config")
app.add_typer(nats.app, name="nats")
app.add_typer(models.app, name="models")
app.add_typer(evaluate.app, name="eval")
app.add_typer(exercise.app, name="exercise")
app.add_typer(audit.app, name="audit")
app.add_typer(incidents.app, name="incident")
app.add_typer(incidents.evidence_app, name="evidence")
app.add_typer(users.app, name="users")
app.add_typer(users.agencies_app, name="agencies")
app.add_typer(keys.app, name="keys")
app.add_typer(certs.app, name="certs")
