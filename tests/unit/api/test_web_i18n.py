"""Every string of the page exists in Korean and in English (issue 17: no page in two languages).

Read from the sources: the core tables of ``i18n.ts``, every module's ``defineStrings({ko, en})``,
every literal ``t('key')`` and ``data-i18n*`` attribute, and every dynamic ``t(`prefix_${...}`)``
whose values come from the domain's enums (a new prefix must be listed here, with its values).
"""

import re
from pathlib import Path

import pytest

from hwarang.domain import AgencyKind, IncidentState, ObjectClass, RuleKind, Severity
from hwarang.domain.enums import TaskState
from hwarang.domain.incident import SeverityReasonCode

APP = Path(__file__).resolve().parents[3] / "src" / "hwarang" / "web" / "app"
SOURCES = sorted((APP / "src").glob("*.ts"))
KEY = re.compile(r"(?:^|[,{\s])([a-z][a-z0-9_]*)\s*:\s*'((?:[^'\\]|\\.)*)'", re.M)
HANGUL = re.compile(r"[가-힣]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

SYSTEM_ACTORS = ("auth", "bootstrap", "cap", "conditions", "demo", "escalation", "ingest", "simulation")
DYNAMIC: dict[str, list[str]] = {
    "sev_": [s.value for s in Severity],
    "state_": [s.value for s in IncidentState],
    "to_": [s.value for s in IncidentState if s is not IncidentState.NEW],
    "cls_": [c.value for c in ObjectClass],
    "rule_": [r.value for r in RuleKind],
    "task_": [s.value for s in TaskState],
    "agency_kind_": [k.value for k in AgencyKind],
    "health_": ["ok", "degraded", "down", "unknown"],
    "conn_": ["connecting", "live", "reconnecting", "offline"],
    "t_": ["1h", "6h", "24h", "7d"],
    "ov_h": ["24", "168", "720"],
    "actor_": list(SYSTEM_ACTORS),
    "why_": [c.value for c in SeverityReasonCode if c is not SeverityReasonCode.AREA] + ["area"],
}
"""Prefixes the page completes at run time, and the values it completes them with."""
ENGLISH_MAY_HOLD_HANGUL = {"lang_other"}


def _table(text: str, start: str) -> dict[str, str]:
    body = text[text.index(start) + len(start) :]
    body = body[: body.index("\n};")]
    return dict(KEY.findall(body))


def _module_tables() -> list[tuple[str, dict[str, str], dict[str, str]]]:
    found = []
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        for match in re.finditer(
            r"defineStrings\(\{\s*ko:\s*\{(.*?)\},\s*en:\s*\{(.*?)\},?\s*\}\)", text, re.S
        ):
            found.append((source.name, dict(KEY.findall(match[1])), dict(KEY.findall(match[2]))))
    return found


def _languages() -> tuple[dict[str, str], dict[str, str]]:
    text = (APP / "src" / "i18n.ts").read_text(encoding="utf-8")
    ko, en = _table(text, "const KO = {"), _table(text, "const EN: Record<Key, string> = {")
    for _name, module_ko, module_en in _module_tables():
        ko.update(module_ko)
        en.update(module_en)
    return ko, en


def _used_keys() -> set[str]:
    used: set[str] = set()
    for source in [*SOURCES, APP / "index.html"]:
        text = source.read_text(encoding="utf-8")
        used.update(re.findall(r"\bt\(\s*'([a-z][a-z0-9_]*)'", text))
        used.update(re.findall(r"data-i18n(?:-title|-placeholder)?=\"([a-z][a-z0-9_]*)\"", text))
        used.update(re.findall(r"'data-i18n(?:-title|-placeholder)?':\s*'([a-z][a-z0-9_]*)'", text))
        for a, b in re.findall(r"\bt\(\s*[^()]*?\?\s*'([a-z][a-z0-9_]*)'\s*:\s*'([a-z][a-z0-9_]*)'", text):
            used.update((a, b))
    return used


def test_both_languages_hold_the_same_keys() -> None:
    ko, en = _languages()
    assert len(ko) > 150
    assert sorted(set(ko) - set(en)) == [], "missing in English"
    assert sorted(set(en) - set(ko)) == [], "missing in Korean"


@pytest.mark.parametrize("name", [name for name, _ko, _en in _module_tables()] or ["(none yet)"])
def test_every_module_table_is_complete(name: str) -> None:
    assert {"attention.ts", "overview.ts"} <= {module for module, _ko, _en in _module_tables()}
    for module, ko, en in _module_tables():
        if module == name:
            assert set(ko) == set(en), f"{module}: {sorted(set(ko) ^ set(en))}"


def test_every_key_the_page_uses_exists_in_both_languages() -> None:
    ko, en = _languages()
    used = _used_keys()
    assert {"title", "login", "tl_burst", "task_due_in", "ov_false_row", "alert_title"} <= used
    missing = sorted(key for key in used if key not in ko or key not in en)
    assert missing == []


def test_every_dynamic_key_exists_in_both_languages() -> None:
    ko, en = _languages()
    prefixes = set()
    for source in SOURCES:
        prefixes.update(re.findall(r"\bt\(\s*`([a-z_]+_)\$\{", source.read_text(encoding="utf-8")))
        prefixes.update(re.findall(r"`(why_)\$\{", source.read_text(encoding="utf-8")))
    unknown = prefixes - set(DYNAMIC)
    assert not unknown, f"list the values of these dynamic prefixes in DYNAMIC: {unknown}"
    missing = sorted(
        prefix + value
        for prefix in prefixes
        for value in DYNAMIC[prefix]
        if prefix + value not in ko or prefix + value not in en
    )
    assert missing == []


def test_translations_are_in_their_language_with_the_same_placeholders() -> None:
    ko, en = _languages()
    for key, text in en.items():
        assert text.strip(), f"{key}: empty in English"
        if key not in ENGLISH_MAY_HOLD_HANGUL:
            assert not HANGUL.search(text), f"{key}: English text holds Korean: {text!r}"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ko[key])), key
    for key, text in ko.items():
        assert text.strip(), f"{key}: empty in Korean"
