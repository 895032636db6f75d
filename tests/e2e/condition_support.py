"""An army commander's alert-level declaration over an area of Incheon, approved by the local
government's head and lifted by the commander, through the demo's API (the law-gated browser tests)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.cop_support import api_token
from tests.e2e.demo_support import DemoServer

COMMANDER = "army-28-cmd"
HEAD = "incheon-junggu-cc-head"


@dataclass(frozen=True, slots=True)
class ArmyCondition:
    """A declared condition awaiting approval; ``approve`` opens its grants, ``lift`` ends them."""

    base_url: str
    id: str
    commander: dict[str, str]
    head: dict[str, str]

    @classmethod
    def declare(cls, server: DemoServer, area_code: str, reason: str) -> "ArmyCondition":
        """Declare alert level 2 over ``area_code`` for an hour (it awaits the head's approval)."""
        base = server.base_url
        commander = {"Authorization": f"Bearer {api_token(base, server.password, COMMANDER)}"}
        head = {"Authorization": f"Bearer {api_token(base, server.password, HEAD)}"}
        body = {
            "kind": "alert_level",
            "alert_level": 2,
            "area_codes": [area_code],
            "reason": reason,
            "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        }
        declared = httpx.post(f"{base}/api/v1/conditions", json=body, headers=commander)
        assert declared.status_code == 201, declared.text
        assert declared.json()["status"] == "awaiting_approval", declared.text
        return cls(base, declared.json()["condition"]["id"], commander, head)

    def approve(self) -> None:
        """The head of the local government approves: the army's grants are in force."""
        approved = httpx.post(f"{self.base_url}/api/v1/conditions/{self.id}/approve", headers=self.head)
        assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text

    def lift(self) -> httpx.Response:
        """The commander lifts the condition (the caller asserts on the answer)."""
        return httpx.post(f"{self.base_url}/api/v1/conditions/{self.id}/lift", headers=self.commander)
