"""The portable side of the spatial queries: search boxes, polygon checks and the SQLite path."""

import pytest

from hwarang.domain import GeoPoint
from hwarang.geo.geodesy import destination
from hwarang.hub.service import HubService
from hwarang.hub.store.spatial import circle_box, lonlat_polygon
from tests.hub_support import make_message, times

SEOUL = GeoPoint(lat=37.5636, lon=126.9976)


@pytest.mark.parametrize("center", [SEOUL, GeoPoint(lat=-70.0, lon=10.0), GeoPoint(lat=0.0, lon=0.0)])
@pytest.mark.parametrize("radius_m", [0.0, 1.0, 950.0, 120_000.0])
def test_circle_box_holds_the_whole_circle(center: GeoPoint, radius_m: float) -> None:
    box = circle_box(center, radius_m)
    for bearing in range(0, 360, 5):
        point = destination(center, float(bearing), radius_m)
        assert box.min_lat <= point.lat <= box.max_lat
        assert box.min_lon <= point.lon <= box.max_lon
    assert box.max_lat - box.min_lat < 0.03 * (radius_m / 1000.0) + 1e-6


def test_circle_box_widens_to_every_longitude_at_a_pole_or_the_antimeridian() -> None:
    for center in (GeoPoint(lat=89.999, lon=0.0), GeoPoint(lat=10.0, lon=179.999)):
        box = circle_box(center, 1000.0)
        assert (box.min_lon, box.max_lon) == (-180.0, 180.0)
    assert circle_box(GeoPoint(lat=89.999, lon=0.0), 1000.0).max_lat == 90.0


@pytest.mark.parametrize("radius_m", [-1.0, float("nan"), float("inf")])
def test_circle_box_refuses_bad_radii(radius_m: float) -> None:
    with pytest.raises(ValueError, match="radius"):
        circle_box(SEOUL, radius_m)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(127.0, 37.0), (127.1, 37.0)], "at least 3"),
        ([(127.0, 37.0), (128.0, 38.0), (129.0, 39.0)], "invalid polygon"),
        ([(127.0, 37.0), (127.1, 37.1), (127.1, 37.0), (127.0, 37.1)], "Self-intersection"),
        ([(127.0, 37.0), (127.1, 95.0), (127.2, 37.0)], r"\(127.1, 95.0\)"),
    ],
)
def test_lonlat_polygon_refuses_what_is_not_a_polygon(
    points: list[tuple[float, float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lonlat_polygon(points)


def test_sqlite_queries_take_the_portable_path(service: HubService) -> None:
    stamps = times(4)
    positions = [SEOUL, destination(SEOUL, 90.0, 99.0), destination(SEOUL, 90.0, 101.0), None]
    messages = [
        make_message(track_id=i, occurred_at=stamps[i], with_snapshot=False, geo=geo)
        for i, geo in enumerate(positions)
    ]
    service.ingest.batch(messages)
    drill = make_message(track_id=9, occurred_at=stamps[0], with_snapshot=False, exercise=True)
    service.ingest.event(drill)
    assert service.database.postgis is False
    assert [i.seq for i in service.incidents.near(SEOUL.lat, SEOUL.lon, 100.0)] == [2, 1]
    assert [i.seq for i in service.incidents.near(SEOUL.lat, SEOUL.lon, 100.0, include_exercise=True)] == [
        5,
        2,
        1,
    ]
    assert [i.seq for i in service.incidents.near(SEOUL.lat, SEOUL.lon, 100.0, limit=1)] == [2]
    square = [(126.997, 37.56), (126.998, 37.56), (126.998, 37.57), (126.997, 37.57)]
    assert [i.seq for i in service.incidents.within(square)] == [1]
    near = service.incidents.near(SEOUL.lat, SEOUL.lon, 100.0)
    assert near[0].event_ids == (messages[1].event.id,)
    with pytest.raises(ValueError, match="limit"):
        service.incidents.near(SEOUL.lat, SEOUL.lon, 100.0, limit=0)
    with pytest.raises(ValueError, match="radius"):
        service.incidents.near(SEOUL.lat, SEOUL.lon, -5.0)
