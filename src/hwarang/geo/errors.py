"""Exception base of the geo package."""


class GeoError(Exception):
    """A region, zone, coordinate or calibration problem (bad input or bad configuration)."""
