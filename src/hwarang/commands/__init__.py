"""The ``hwarang`` sub-commands, one module per concept; ``hwarang.cli`` assembles them."""
