"""docs/api.md is true to the app: the account routes it must document are the app's routes."""

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute

from hwarang.api.app import iter_routes

API_MD = Path(__file__).resolve().parents[3] / "docs" / "api.md"
ACCOUNT_PREFIXES = ("/api/v1/users", "/api/v1/agencies")


def test_every_account_route_is_documented(app: FastAPI) -> None:
    text = API_MD.read_text(encoding="utf-8")
    routes = {
        (method, route.path)
        for route in iter_routes(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith(ACCOUNT_PREFIXES)
        for method in route.methods or ()
    }
    assert ("POST", "/api/v1/users") in routes  # what the docs once said did not exist
    for method, path in sorted(routes):
        last = path.rsplit("/", 1)[-1]
        shown = f"`{path}`" in text or (path.endswith(f"/{last}") and f"`/{last}`" in text)
        assert shown, f"{method} {path} is not in docs/api.md"
    assert not re.search(r"no route or command to create", text)
