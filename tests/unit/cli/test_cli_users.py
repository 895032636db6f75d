"""``hwarang users`` / ``hwarang agencies`` against a site's hub database, and the demo's agencies."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.config import load_config
from hwarang.domain import AgencyKind, Camera, GeoPoint, Role
from hwarang.hub.identity.agencies import DEFAULT_AGENCIES
from hwarang.runtime.demo_setup import demo_agencies, demo_users
from hwarang.runtime.embedded import build_hub


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"hub": {"data_dir": str(tmp_path / "data")}}), encoding="utf-8")
    return path


def _run(site: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "-c", str(site)], input=stdin)
    return result.exit_code, result.output


def test_add_agency_and_users_then_list(site: Path, tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("jongno-password-1\n", encoding="utf-8")

    assert (
        _run(
            site,
            "agencies",
            "add",
            "seoul-jongno",
            "--name",
            "종로구",
            "--kind",
            "local_government",
            "--jurisdiction",
            "11110",
        )[0]
        == 0
    )
    code, out = _run(
        site,
        "users",
        "add",
        "op1",
        "--agency",
        "seoul-jongno",
        "--role",
        "operator",
        "--role",
        "commander",
        "--password-file",
        str(password_file),
    )
    assert code == 0, out
    assert "jurisdiction 11110" in out
    code, out = _run(
        site,
        "users",
        "add",
        "boss",
        "--agency",
        "idhq",
        "--role",
        "admin",
        stdin="boss-password-12\nboss-password-12\n",
    )
    assert code == 0, out

    hub = build_hub(load_config(site))
    try:
        assert hub.identity.users.authenticate("op1", "jongno-password-1") is not None
        assert hub.identity.users.authenticate("boss", "boss-password-12") is not None
    finally:
        hub.database.close()
    code, out = _run(site, "users", "list")
    assert code == 0 and "op1" in out and "commander" in out and "nationwide" in out
    code, out = _run(site, "agencies", "list")
    assert code == 0 and "seoul-jongno" in out and "idhq" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "nowhere", "--role", "operator"], "not registered"),
        (["--agency", "idhq", "--role", "operator", "--jurisdiction", "1"], "2-digit sido"),
    ],
)
def test_add_user_refusals_exit_2(site: Path, tmp_path: Path, args: list[str], message: str) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("some-password-1", encoding="utf-8")

    code, out = _run(site, "users", "add", "x", *args, "--password-file", str(password_file))

    assert code == 2
    assert message in out


def test_demo_registers_its_local_governments_and_partners() -> None:
    config = load_config(None)
    camera = Camera(
        id="cam-01",
        center_id="incheon-junggu",
        name="Gate",
        position=GeoPoint(lat=37.47, lon=126.62),
        sido_code="28",
        sigungu_code="28110",
    )

    agencies = {
        a.code: a for a in demo_agencies(config, [camera, camera.model_copy(update={"id": "cam-02"})])
    }

    assert set(agencies) == {
        "incheon-junggu",
        "army-28",
        "police-28",
        "fire-28",
        "coast-guard-28",
        "infra-28",
        "nis",
    }
    assert agencies["incheon-junggu"].kind is AgencyKind.LOCAL_GOVERNMENT
    assert agencies["incheon-junggu"].jurisdiction_code == "28110"
    assert agencies["army-28"].kind is AgencyKind.MILITARY and agencies["army-28"].jurisdiction_code == "28"
    hub_agencies = [*agencies.values(), *DEFAULT_AGENCIES]
    users = {user.username: user for user in demo_users(hub_agencies)}
    assert {a.kind for a in hub_agencies} == set(AgencyKind)  # every agency kind of the mission
    assert {u.agency_code for u in users.values()} == {a.code for a in hub_agencies}  # a user each
    assert users["incheon-junggu-head"].roles == (Role.HEAD_OF_LOCAL_GOVERNMENT,)
    assert users["police-28-liaison"].jurisdiction_code == "28"


def test_unlock_clears_a_lockout(site: Path, tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("duty-password-1\n", encoding="utf-8")
    assert (
        _run(
            site,
            "users",
            "add",
            "duty1",
            "--agency",
            "idhq",
            "--role",
            "operator",
            "--password-file",
            str(password_file),
        )[0]
        == 0
    )
    hub = build_hub(load_config(site))
    for _ in range(5):
        assert hub.identity.users.authenticate("duty1", "wrong-guess") is None
    assert hub.identity.users.authenticate("duty1", "duty-password-1") is None  # locked

    code, out = _run(site, "users", "unlock", "duty1")

    assert code == 0 and "duty1 unlocked" in out
    assert hub.identity.users.authenticate("duty1", "duty-password-1") is not None
    assert _run(site, "users", "unlock", "nobody")[0] == 1


def test_passwd_and_reset(site: Path, tmp_path: Path) -> None:
    hub = build_hub(load_config(site))
    hub.identity.ensure_admin("first-admin-password")
    hub.database.close()
    weak = tmp_path / "weak"
    weak.write_text("a\n", encoding="utf-8")
    code, out = _run(site, "users", "passwd", "admin", "--password-file", str(weak))
    assert code == 2 and "at least 10" in out
    good = tmp_path / "good"
    good.write_text("second-admin-password\n", encoding="utf-8")
    assert _run(site, "users", "passwd", "admin", "--password-file", str(good))[0] == 0
    code, out = _run(site, "users", "reset", "admin")
    assert code == 0 and "new password of admin" in out
    password = out.split("admin: ")[1].split(" ")[0].strip()
    hub = build_hub(load_config(site))
    assert hub.identity.users.authenticate("admin", password) is not None
    assert hub.identity.users.authenticate("admin", "second-admin-password") is None
    hub.database.close()
    assert _run(site, "users", "reset", "ghost")[0] == 1
