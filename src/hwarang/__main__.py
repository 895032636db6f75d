"""``python -m hwarang``: the same as the ``hwarang`` command."""

from hwarang.cli import app

app()
