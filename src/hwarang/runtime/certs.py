"""A site certificate authority and its certificates (``hwarang certs``), for tests and small sites.

The CA signs server certificates (the hub's API, nats-servers: client and leaf-node listeners) and
client certificates (edges, hubs on a leaf link, agency clients). Private keys are written 0600.
Agencies with their own PKI skip this and point the same config fields at their files
(docs/security.md).
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY = "ca.crt", "ca.key"


class CertError(Exception):
    """A certificate could not be made (bad name, missing CA, file exists)."""


@dataclass(frozen=True, slots=True)
class IssuedCert:
    """Paths of a certificate and its key."""

    cert: Path
    key: Path


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(out_dir: Path, *, org: str = "Hwarang site", days: int = 3650) -> IssuedCert:
    """A self-signed CA (``ca.crt``, ``ca.key`` 0600) in ``out_dir``; refuses to replace one."""
    cert_path, key_path = out_dir / CA_CERT, out_dir / CA_KEY
    if key_path.exists():
        raise CertError(f"{key_path} exists: a site has one CA (remove it to start over)")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = _name(f"{org} CA", org)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return IssuedCert(cert_path, key_path)


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue(
    ca_dir: Path,
    name: str,
    *,
    hosts: list[str] | None = None,
    server: bool = True,
    client: bool = True,
    out_dir: Path | None = None,
    days: int = 825,
) -> IssuedCert:
    """A certificate ``<name>.crt`` / ``<name>.key`` (0600) signed by the CA in ``ca_dir``.

    ``hosts`` (DNS names or IP addresses) go into the subject alternative names; a server
    certificate needs the names clients connect to. ``server``/``client`` set the key usages.
    """
    if not name or any(c in name for c in "/\\\0") or name.startswith("."):
        raise CertError(f"certificate name {name!r}: use a plain file name")
    if not (server or client):
        raise CertError("a certificate needs server or client use (or both)")
    try:
        ca_key = serialization.load_pem_private_key((ca_dir / CA_KEY).read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate((ca_dir / CA_CERT).read_bytes())
    except (OSError, ValueError) as exc:
        raise CertError(f"no usable CA in {ca_dir} ('hwarang certs ca' first): {exc}") from exc
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise CertError(f"{ca_dir / CA_KEY} is not an EC key made by 'hwarang certs ca'")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usages = [
        u
        for u, on in ((ExtendedKeyUsageOID.SERVER_AUTH, server), (ExtendedKeyUsageOID.CLIENT_AUTH, client))
        if on
    ]
    org = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name, str(org[0].value) if org else "Hwarang site"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if hosts:
        builder = builder.add_extension(_san(hosts), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    target = out_dir or ca_dir
    key_path, cert_path = target / f"{name}.key", target / f"{name}.crt"
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return IssuedCert(cert_path, key_path)
