"""The browser front end: TypeScript in ``app/``, built by Vite into ``dist/``, served by ``hwarang.api``."""

from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent / "app"
"""The front-end project (package.json, package-lock.json, src/*.ts); built with ``make web``."""
STATIC_DIR = Path(__file__).resolve().parent / "dist"
"""The built page: index.html, app.js, style.css and the MapLibre chunks (installed as package data)."""
WEB_NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>Hwarang: front-end not built</title>"
    "<h1>The Hwarang web front-end is not built</h1>"
    "<p>src/hwarang/web/dist/index.html is missing. Run <code>make web</code> in the repository "
    "(npm ci + vite build; needs Node.js 20) and restart the hub.</p>"
)
"""The page's answer (HTTP 503) when the built assets are missing."""
