"""``GET /api/v1/events/{id}/clip``: 'clip arriving' until the clip is held, then MP4 with ranges, audited."""

from fastapi.testclient import TestClient

from hwarang.hub.service import HubService
from tests.unit.api.api_support import make_message
from tests.unit.api.sharing_support import seed_clip


def test_the_clip_is_arriving_then_served_with_ranges_and_each_view_audited(
    client: TestClient, hub: HubService, operator_token: str, viewer_token: str
) -> None:
    message = make_message(7)
    hub.ingest.event(message)
    auth = {"Authorization": f"Bearer {operator_token}"}
    url = f"/api/v1/events/{message.event.id}/clip"
    arriving = client.get(url, headers=auth)
    assert arriving.status_code == 404 and arriving.json()["detail"] == "clip arriving"

    sha = seed_clip(hub, message)
    whole = client.get(url, headers=auth)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.content[4:8] == b"ftyp"
    part = client.get(url, headers={**auth, "Range": "bytes=4-7"})
    assert part.status_code == 206 and part.content == b"ftyp"
    event = client.get(f"/api/v1/events/{message.event.id}", headers=auth).json()
    assert event["clip"]["sha256"] == sha

    views = hub.audit.entries(action="evidence.view", target=f"clip:{sha}")
    assert len(views) == 1  # the whole file; the range from byte 4 is the same playback
    assert views[0].actor == "op1" and views[0].detail["event_id"] == str(message.event.id)

    refused = client.get(url, headers={"Authorization": f"Bearer {viewer_token}"})
    assert refused.status_code == 403
    assert client.get(url).status_code == 401
