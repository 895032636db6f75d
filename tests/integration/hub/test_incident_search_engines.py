"""Full-text search of incidents on SQLite (FTS5) and PostgreSQL (tsvector): titles, rule and camera
names, notes; every word as a prefix; the index follows new incidents and notes."""

import pytest

from hwarang.domain import GeoPoint
from hwarang.hub.fusion.search import IncidentSearch, SearchError
from hwarang.hub.service import HubService
from tests.hub_support import make_message, new_incident


def test_search_finds_rule_names_camera_ids_and_notes_and_follows_changes(engine_service: HubService) -> None:
    quay = new_incident(
        engine_service, make_message(camera_id="pier-cam-7", rule_name="quay-fence", track_id=1, seed=1)
    )
    gate = new_incident(
        engine_service,
        make_message(
            camera_id="gate-cam-2",
            rule_name="north-gate",
            track_id=2,
            seed=2,
            geo=GeoPoint(lat=37.6, lon=127.1),
        ),
    )
    index = IncidentSearch(engine_service.database)

    assert index.search("quay") == [quay.id]
    assert index.search("gate-cam") == [gate.id]  # words as prefixes: "gate" and "cam"
    assert index.search("pier north") == []  # every word must match
    assert set(index.search("cam")) == {quay.id, gate.id}

    engine_service.workflow.add_note(gate.id, "op", "수상한 차량이 부두에서 배회")
    assert index.search("부두") == [gate.id]  # a note added after the index was built
    assert index.search("차량") == [gate.id]
    assert index.size() == 2

    with pytest.raises(SearchError, match="search for words"):
        index.search(" ** ")


def test_two_indexes_on_one_store_agree(engine_service: HubService) -> None:
    """Two hub processes share a store: a second index does not take the first one's documents away."""
    first = IncidentSearch(engine_service.database)
    quay = new_incident(
        engine_service, make_message(camera_id="pier-cam-7", rule_name="quay-fence", track_id=1)
    )
    assert first.search("quay") == [quay.id]
    second = IncidentSearch(engine_service.database)
    assert second.search("quay") == [quay.id]
    assert first.search("quay") == [quay.id]
    assert first.size() == second.size() == 1
