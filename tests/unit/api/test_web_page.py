"""The hub serves the built front-end, and says how to build it when it is missing."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from hwarang.api import app as app_module
from hwarang.api.settings import ApiSettings
from hwarang.hub.service import HubService


def _client(hub: HubService, settings: ApiSettings) -> TestClient:
    return TestClient(app_module.create_app(hub, settings))


def test_missing_build_answers_503_naming_make_web(
    hub: HubService, settings: ApiSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STATIC_DIR", tmp_path / "dist")
    with _client(hub, settings) as client:
        page = client.get("/")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "make web" in page.text
        assert str(tmp_path) not in page.text, "the server's paths stay private"
        assert client.get("/static/app.js").status_code == 404


def test_built_assets_are_public_and_revalidated(
    hub: HubService, settings: ApiSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text('<!doctype html><div data-testid="login-form"></div>', encoding="utf-8")
    (dist / "app.js").write_text("console.log('incident-row');", encoding="utf-8")
    monkeypatch.setattr(app_module, "STATIC_DIR", dist)
    with _client(hub, settings) as client:
        page = client.get("/")
        script = client.get("/static/app.js")
        assert page.status_code == 200 and 'data-testid="login-form"' in page.text
        assert script.status_code == 200 and "incident-row" in script.text
        for response in (page, script):
            assert response.headers["cache-control"] == "no-cache"
        again = client.get("/static/app.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304
        assert client.get("/static/../../pyproject.toml").status_code == 404


def test_a_configured_tile_path_reaches_the_page_and_other_hosts_are_refused(
    hub: HubService, settings: ApiSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text(
        '<!doctype html><meta name="hwarang-tiles" content=""><div id="map"></div>', encoding="utf-8"
    )
    monkeypatch.setattr(app_module, "STATIC_DIR", dist)
    tiles = "/tiles/{z}/{x}/{y}.png?style=a&b=1"
    with _client(hub, settings.model_copy(update={"map_tiles": tiles})) as client:
        page = client.get("/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    assert '<meta name="hwarang-tiles" content="/tiles/{z}/{x}/{y}.png?style=a&amp;b=1">' in page.text
    with _client(hub, settings) as client:
        assert '<meta name="hwarang-tiles" content="">' in client.get("/").text
    for outside in ("https://tiles.example.com/{z}/{x}/{y}.png", "//cdn.example/{z}.png", 'x"><script>'):
        with pytest.raises(ValidationError, match="map_tiles"):
            ApiSettings(map_tiles=outside)
