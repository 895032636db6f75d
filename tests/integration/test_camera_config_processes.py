"""A rule changed at the hub process runs in the edge process, over NATS (issue #17, item 5)."""

import asyncio
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from hwarang.config.loader import default_config_text
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow
from hwarang.runtime.local_nats import local_bus_config, local_nats_server
from tests.integration.hubproc_support import ADMIN_PASSWORD, api_port, bus_section, new_hub_process, poll

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

GOSEONG, CAMERA = "goseong-cc", "gos-coast-fence-01"
WHOLE = [[0, 0], [960, 0], [960, 540], [0, 540]]


def _site(tmp_path: Path, name: str, bus: Any, port: int) -> Path:
    raw = yaml.safe_load(default_config_text())
    raw["edge"]["centers"] = [c for c in raw["edge"]["centers"] if c["id"] == GOSEONG]
    raw["bus"] = bus_section(bus)
    raw["hub"] = {"data_dir": str(tmp_path / "hub"), "database_url": f"sqlite:///{tmp_path / 'hub.db'}"}
    raw["api"] = {"host": "127.0.0.1", "port": port}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _call(base: str, path: str, token: str, body: Any = None, method: str = "GET") -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def _token(base: str) -> str:
    form = urllib.parse.urlencode({"username": "admin", "password": ADMIN_PASSWORD}).encode()
    with urllib.request.urlopen(
        urllib.request.Request(f"{base}/api/v1/auth/token", data=form), timeout=5
    ) as r:
        return str(json.load(r)["access_token"])


def _picture(base: str, token: str) -> tuple[bytes, bytes, tuple[str | None, str | None]]:
    request = urllib.request.Request(
        f"{base}/api/v1/cameras/{CAMERA}/picture", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        size = (response.headers.get("X-Frame-Width"), response.headers.get("X-Frame-Height"))
    return body[:2], body[-2:], size


def _rule_names(database_url: str) -> set[str]:
    db = Database(database_url)
    try:
        with db.session() as session:
            return {str(payload["rule_name"]) for payload in session.scalars(select(EventRow.payload))}
    finally:
        db.close()


async def test_a_rule_changed_at_the_hub_runs_in_the_edge_process(tmp_path: Path) -> None:
    port = api_port()
    base = f"http://127.0.0.1:{port}"
    async with local_nats_server(tmp_path / "nats") as server:
        hub_bus = local_bus_config(server, name="hub")
        edge_bus = hub_bus.model_copy(update={"name": "edge", "manage_streams": "none"})
        hub = new_hub_process(tmp_path, "hub", _site(tmp_path, "hub", hub_bus, port), port)
        log = tmp_path / "edge.log"
        edge_site = _site(tmp_path, "edge", edge_bus, port)
        with log.open("ab") as handle:  # the edge first: it waits for the hub's commands stream
            edge = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hwarang", "edge", "--config", str(edge_site),
                stdout=handle, stderr=handle, stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        try:
            hub.start()
            await asyncio.to_thread(hub.wait_healthy, 30.0)
            token = await asyncio.to_thread(_token, base)
            current = await asyncio.to_thread(_call, base, f"/api/v1/cameras/{CAMERA}/config", token)
            rule = {"type": "zone_intrusion", "name": "drawn-whole", "polygon": WHOLE, "min_dwell_s": 0.3}
            config = {**current["config"], "rules": [*current["config"]["rules"], rule]}
            body = {"version": current["version"], "config": config}
            saved = await asyncio.to_thread(
                _call, base, f"/api/v1/cameras/{CAMERA}/config", token, body, "PUT"
            )

            def answer() -> dict[str, Any] | None:
                found = _call(base, f"/api/v1/cameras/{CAMERA}/config", token)
                return found["edge"] if found["version"] == saved["version"] else None

            assert await poll(lambda: answer() is not None, timeout_s=30.0, interval_s=0.2), log.read_text()[
                -3000:
            ]
            assert answer() == {**(answer() or {}), "status": "applied", "how": "rules"}
            picture = await asyncio.to_thread(_picture, base, token)
            assert (picture[0], picture[2]) == (b"\xff\xd8", ("960", "540"))  # asked of the edge over NATS
            db_url = f"sqlite:///{tmp_path / 'hub.db'}"
            assert await poll(lambda: "drawn-whole" in _rule_names(db_url), timeout_s=30.0, interval_s=0.5), (
                log.read_text()[-3000:]
            )
        finally:
            edge.terminate()
            edge_code = await asyncio.wait_for(edge.wait(), timeout=20)
            hub_code = await asyncio.to_thread(hub.terminate)
        assert (edge_code, hub_code) == (0, 0), log.read_text()[-3000:]
