"""The browser front end: static assets served by ``hwarang.api``."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Folder holding index.html, app.js and style.css (installed as package data)."""
