"""``hwarang keys``, ``hwarang certs`` and ``hwarang nats config --tls-* / --auth jwt``."""

import base64
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from hwarang.bus.server import find_nats_server
from hwarang.cli import app
from hwarang.edge.signing import load_private_key, public_key_text


def test_keys_generate_writes_a_private_key_and_its_public_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "generate", "--center", "seoul-cc", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    key_path = tmp_path / "seoul-cc.key"
    assert key_path.stat().st_mode & 0o777 == 0o600
    public = (tmp_path / "seoul-cc.pub").read_text().strip()
    assert len(base64.b64decode(public)) == 32
    assert public_key_text(load_private_key(key_path)) == public
    assert public in result.output
    again = CliRunner().invoke(app, ["keys", "generate", "--center", "seoul-cc", "--out", str(tmp_path)])
    assert again.exit_code == 1 and "exists" in again.output
    bad = CliRunner().invoke(app, ["keys", "generate", "--center", "Bad Id", "--out", str(tmp_path)])
    assert bad.exit_code == 2


def test_certs_make_a_ca_and_certificates_it_signed(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["certs", "ca", "--out", str(tmp_path)]).exit_code == 0
    result = runner.invoke(
        app, ["certs", "issue", "hub", "--ca", str(tmp_path), "--host", "127.0.0.1", "--host", "hub.local"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hub.key").stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate((tmp_path / "hub.crt").read_bytes())
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["hub.local"]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    again = runner.invoke(app, ["certs", "ca", "--out", str(tmp_path)])
    assert again.exit_code == 1 and "exists" in again.output
    missing = runner.invoke(app, ["certs", "issue", "x", "--ca", str(tmp_path / "none")])
    assert missing.exit_code == 1


def test_nats_config_with_tls_and_jwt_is_valid_for_nats_server(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["certs", "ca", "--out", str(tmp_path / "tls")]).exit_code == 0
    assert runner.invoke(app, ["certs", "issue", "nats", "--ca", str(tmp_path / "tls")]).exit_code == 0
    tls = ["--tls-cert", str(tmp_path / "tls/nats.crt"), "--tls-key", str(tmp_path / "tls/nats.key"),
           "--tls-ca", str(tmp_path / "tls/ca.crt")]  # fmt: skip
    out = tmp_path / "nats"
    common = ["--out", str(out), "--auth", "jwt", "--store-dir", str(tmp_path / "js"), *tls]
    hub = runner.invoke(app, ["nats", "config", "--role", "national", "--id", "hq", "--leaf", "cc", *common])
    assert hub.exit_code == 0, hub.output
    leaf = runner.invoke(
        app,
        ["nats", "config", "--role", "leaf", "--id", "cc", "--uplink", "nats-leaf://127.0.0.1:7422", *common],
    )
    assert leaf.exit_code == 0, leaf.output
    assert (out / "creds" / "edge.creds").stat().st_mode & 0o777 == 0o600
    for name in ("national-hq.conf", "leaf-cc.conf"):
        text = (out / name).read_text()
        assert "verify: true" in text and "operator:" in text and "password" not in text
        done = subprocess.run(
            [str(find_nats_server()), "-c", str(out / name), "-t"], capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode()
    half = runner.invoke(app, ["nats", "config", "--role", "national", "--id", "hq", "--out", str(out),
                               "--tls-cert", "x"])  # fmt: skip
    assert half.exit_code == 2
