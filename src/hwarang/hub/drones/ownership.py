"""Who may move a friendly unit: only its owning agency's sources.

A unit registered in ``hub.drones.friendly_units`` belongs to the agency named there. An
unregistered unit is claimed by the first agency that reports it (kept while the hub runs;
register units that matter so the claim survives a restart). Any other agency's report of it is
refused with the reason, so a municipal operator cannot move a military drone.
"""

import threading
from collections.abc import Mapping


class FriendlyOwners:
    """Owning agency per friendly unit id (thread-safe)."""

    def __init__(self, registered: Mapping[str, str]) -> None:
        self._registered = dict(registered)
        self._claimed: dict[str, str] = {}
        self._lock = threading.Lock()

    def refusal(self, unit_id: str, agency: str) -> str | None:
        """Why ``agency`` may not report ``unit_id`` (claiming it when nobody owns it), or None."""
        owner = self._registered.get(unit_id)
        if owner is None:
            with self._lock:
                owner = self._claimed.setdefault(unit_id, agency)
        if owner != agency:
            return f"friendly unit {unit_id} belongs to agency {owner}; {agency} may not report it"
        return None

    def owner(self, unit_id: str) -> str | None:
        """The owning agency, when registered or claimed."""
        with self._lock:
            return self._registered.get(unit_id) or self._claimed.get(unit_id)
