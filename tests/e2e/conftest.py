"""A real ``hwarang demo`` process and Debian's Chromium, driven by Playwright, for end-to-end tests."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e.cop_support import api_token
from tests.e2e.demo_support import DemoServer, running_demo

CHROMIUM = Path(os.environ.get("HWARANG_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",  # WebGL (the map) on the software rasteriser, headless, no GPU
]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory, vtest_path: Path) -> Iterator[DemoServer]:
    """``python -m hwarang demo`` with its defaults, the real vtest clip, on a free loopback port."""
    with running_demo(tmp_path_factory.mktemp("demo-data"), vtest_path) as server:
        yield server


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    """Module-scoped: sync Playwright keeps an event loop running, which must end before asyncio tests run."""
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium; the tests never download a browser."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: install Debian's chromium (make browser)")
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are saved (linked from the README)."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def doc_screenshots() -> Path:
    """``docs/screenshots``: the main screens, overwritten by every run and linked from the README."""
    DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return DOC_SCREENSHOTS


@pytest.fixture(scope="session")
def admin_token(demo_server: DemoServer) -> str:
    """An access token of the demo's admin, for injecting events through the API."""
    return api_token(demo_server.base_url, demo_server.password)
