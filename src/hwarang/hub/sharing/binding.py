"""Who may speak for what: events posted through the API are bound to the poster's center.

A local government's agency code is its control center's id (``hwarang agencies add`` with the
center id, as the demo does): its users post only their center's events, for cameras the hub
knows as that center's, in their jurisdiction. Administrators may post for any center, but the
camera binding holds for them too. Provenance of bus events is :mod:`.provenance`.
"""

from hwarang.domain import Camera, Event, Role, User
from hwarang.hub.sharing.policy import in_jurisdiction


def event_post_refusal(user: User, event: Event, camera: Camera | None) -> str | None:
    """Why ``user`` may not post ``event`` (``camera``: the hub's record of its camera), or None."""
    if not in_jurisdiction(user, event.sigungu_code):
        return f"event in {event.sigungu_code} is outside your jurisdiction {user.jurisdiction_code}"
    if Role.ADMIN not in user.roles and event.center_id != user.agency_code:
        return f"you post for agency {user.agency_code}; the event names center {event.center_id}"
    if camera is not None:
        if camera.center_id != event.center_id:
            return f"camera {camera.id} belongs to center {camera.center_id}, not {event.center_id}"
        if (camera.sido_code, camera.sigungu_code) != (event.sido_code, event.sigungu_code):
            return f"camera {camera.id} stands in {camera.sigungu_code}; the event says {event.sigungu_code}"
    return None
