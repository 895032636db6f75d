"""Planning: places resolved against the region catalog and the site's cameras, with line-numbered errors."""

from datetime import UTC, datetime, timedelta

import pytest

from hwarang.domain import Camera, GeoPoint
from hwarang.exercise.plan import EXERCISE_CENTER, plan_exercise
from hwarang.exercise.scenario import ScenarioError, parse_scenario
from tests.unit.exercise.exercise_support import SCENARIO, scenario_plan


def plan_problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        plan_exercise(parse_scenario(text, "plan.yaml"), **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_places_resolve_to_zone_sido_and_local_government() -> None:
    plan = scenario_plan()
    boat, drone = plan.injects
    assert (boat.zone_id, boat.sido_code, boat.sigungu_code, boat.local_government_code) == (
        2,
        "28",
        "28720",
        "28720",
    )
    # A unit of 세종 belongs to the single-tier sido: the local government is 36.
    assert (drone.zone_id, drone.sido_code, drone.local_government_code) == (4, "36", "36")
    assert boat.at == plan.start + timedelta(minutes=5) and boat.offset_s == 300.0
    assert boat.camera_id == "ex-boat" and boat.center_id == EXERCISE_CENTER
    assert boat.position is not None and 37.0 < boat.position.lat < 38.5
    assert plan.end == plan.start + timedelta(hours=2)


def test_a_district_counts_for_its_city() -> None:
    one = SCENARIO.split("  - id: sejong-drone")[0].replace("zones: [2, 4]", "zones: [2]")
    plan = scenario_plan(one.replace('sigungu: "28720"', 'sigungu: "41111"'))
    assert plan.injects[0].local_government_code == "41110"  # 수원시 장안구 -> 수원시


def test_positions_are_looked_up() -> None:
    text = SCENARIO.replace('{sigungu: "28720"}', "{position: {lat: 36.78, lon: 126.45}}")
    boat = scenario_plan(text).injects[0]
    assert (boat.zone_id, boat.sido_code, boat.sigungu_code) == (4, "44", "44210")


def test_site_cameras_give_codes_and_center() -> None:
    camera = Camera(id="cam-1", center_id="icn-jung", name="pier", position=GeoPoint(lat=37.47, lon=126.62),
                    sido_code="28", sigungu_code="28110")  # fmt: skip
    text = SCENARIO.replace('{sigungu: "28720"}', "{camera: cam-1}")
    boat = plan_exercise(parse_scenario(text, "ok.yaml"), cameras={"cam-1": camera}).injects[0]
    assert (boat.sigungu_code, boat.center_id, boat.camera_id, boat.position) == (
        "28110", "icn-jung", "cam-1", camera.position
    )  # fmt: skip
    assert plan_problems(text.replace("camera: cam-1", "camera: cam-9"), cameras={"cam-1": camera}) == [
        "plan.yaml:10:5: injects.0.place: an event inject needs a local government: give sigungu, a position "
        "on land or a site camera",
        "plan.yaml:10:5: injects.0.place: cannot tell the exercise zone of this place",
        "plan.yaml:10:13: injects.0.place.camera: camera 'cam-9' is not a camera of the site",
    ]


def test_places_are_checked_with_their_lines() -> None:
    text = (
        SCENARIO.replace('{sigungu: "28720"}', '{sigungu: "28720", sido: "41", zone: 3}')
        .replace('{sigungu: "36110"}', '{sigungu: "99999"}')
        .replace("zones: [2, 4]", "zones: [2, 4, 12]")
    )
    found = plan_problems(text)
    assert "plan.yaml:2:15: zones.2: unknown exercise zone 12 (known: 1..11)" in found
    assert "plan.yaml:10:31: injects.0.place.sido: local government 28720 is in sido 28, not 41" in found
    assert "plan.yaml:10:43: injects.0.place.zone: sido 41 is in zone 2 (인천·경기), not 3" in found
    assert "plan.yaml:23:13: injects.1.place.sigungu: unknown sigungu code '99999'" in found


def test_injects_outside_the_exercise_zones_and_window_are_refused() -> None:
    found = plan_problems(SCENARIO.replace("zones: [2, 4]", "zones: [2]").replace("at: 30m", "at: 3h"))
    assert found == [
        "plan.yaml:20:5: injects.1.at: 10800 s is after the exercise's end (7200 s)",
        "plan.yaml:23:5: injects.1.place: the place is in zone 4, which is not in the exercise's zones",
    ]


def test_figures_need_a_camera_and_events_a_local_government() -> None:
    text = SCENARIO.replace("{type: event, count: 2}", "{type: figure, path: [[0, 1, 2]]}").replace(
        '{sigungu: "28720"}', '{sido: "28"}'
    )
    assert plan_problems(text) == [
        "plan.yaml:10:5: injects.0.place: an event inject needs a local government: give sigungu, a position "
        "on land or a site camera",
        "plan.yaml:23:5: injects.1.place: a figure inject needs place.camera (the camera to draw into)",
    ]


def test_ids_start_time_and_agency_codes_are_checked() -> None:
    text = SCENARIO.replace("id: sejong-drone", "id: boat").replace(
        'start: "2026-08-25T00:00:00+00:00"\n', ""
    )
    assert plan_problems(text, agencies={"police-28"}) == [
        "plan.yaml:1:1: name: the scenario has no start time: set 'start' or give one when running it",
        "plan.yaml:17:12: injects.0.expected.agencies.1.code: agency 'cg-28' is not registered",
        "plan.yaml:18:5: injects.1.id: id 'boat' is also used by injects.0",
    ]
    start = datetime(2027, 1, 1, tzinfo=UTC)
    plan = plan_exercise(parse_scenario(SCENARIO, "ok.yaml"), start=start)
    assert plan.start == start and plan.injects[0].at == start + timedelta(minutes=5)
