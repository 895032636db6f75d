"""nats-server configuration for each Hwarang role: center leaf node, regional hub, national hub.

Every role runs JetStream in its own **domain**. A center's leaf node stores its edge's events in a
local ``HWARANG_EVENTS`` stream; the hub's ``HWARANG_EVENTS`` *sources* from each leaf's domain
(``$JS.<domain>.API``), so events published while the uplink is down are copied once it is back,
exactly once (the source tracks the upstream sequence, and msg ids de-duplicate). The leaf remote
denies exporting ``hwarang.events.>`` so that core traffic never reaches the hub's stream directly
(which would store events twice; the same for ``hwarang.clips.>`` and ``HWARANG_CLIPS``), and
denies importing ``hwarang.commands.>`` for the same reason in the other direction. A regional hub
is itself a leaf of the national hub, sourced the same way.

Accounts: everything lives in the ``HWARANG`` account (JetStream enabled); each user has subject
permissions: ``hub`` everything; ``edge-<center>`` its own event, clip and live video subjects
(``hwarang.live.video.<center>.*``), its commands and its live-view leases; agency
liaison users only ``hwarang.share.<agency>.>`` (core and through their ``HWARANG_SHARE_<AGENCY>``
stream) and an inbox prefix of their own, with the other agencies' share subjects denied.

Secrets never go into the configs: each ``<name>.conf`` includes ``<name>.secrets.conf`` (mode
0600) holding ``$PW_<USER>`` variables, and the generator keeps every password in ``secrets.json``
(0600) so hub and leaf configs generated at different times agree. ``HWARANG_NATS_PW_<USER>`` in
the environment overrides a stored password.
"""

import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hwarang.bus.base import BusError
from hwarang.bus.natsjwt import NatsAuthority
from hwarang.bus.subjects import (
    ACKS_ALL,
    ACKS_PREFIX,
    CLIPS_ALL,
    CLIPS_PREFIX,
    COMMANDS_PREFIX,
    EVENTS_ALL,
    EVENTS_PREFIX,
    LIVE_ALL,
    SHARE_PREFIX,
    center_live_leases,
    center_live_video,
)

ACCOUNT = "HWARANG"
AGENCIES: tuple[str, ...] = ("police", "military", "coast_guard", "fire")
NATIONAL_DOMAIN = "national"
HUB_USER = "hub"
EDGE_LOCAL_USER = "edge"
SECRETS_FILE = "secrets.json"
PASSWORD_ENV_PREFIX = "HWARANG_NATS_PW_"
Role = Literal["leaf", "regional", "national"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _slug(kind: str, value: str) -> str:
    if not _SLUG.match(value):
        raise BusError(f"invalid {kind} {value!r}: use lower-case letters, digits, '-' or '_'")
    return value


def center_domain(center_id: str) -> str:
    """JetStream domain of a center's leaf node."""
    return f"center-{_slug('center id', center_id)}"


def region_domain(region_id: str) -> str:
    """JetStream domain of a regional hub."""
    return f"region-{_slug('region id', region_id)}"


def leaf_user(node_id: str) -> str:
    """The user a downstream leaf node (center or region) authenticates as on its hub."""
    return f"leaf-{_slug('leaf id', node_id)}"


def share_stream(agency: str) -> str:
    """The JetStream stream holding what is shared with one agency."""
    return f"HWARANG_SHARE_{_slug('agency', agency).upper()}"


def agency_inbox(agency: str) -> str:
    """The reply-subject prefix an agency's clients must use (their ``inbox_prefix``)."""
    return f"_INBOX_{_slug('agency', agency)}"


def password_var(user: str) -> str:
    """The config variable holding ``user``'s password, e.g. ``PW_LEAF_SEOUL_CC``."""
    return "PW_" + re.sub(r"[^A-Z0-9]", "_", user.upper())


class SecretStore:
    """Passwords by user, kept in a JSON file with mode 0600; missing ones are generated."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self._env = os.environ if environ is None else environ
        self._passwords: dict[str, str] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BusError(f"{path}: cannot read the NATS secrets file: {exc}") from exc
            if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
                raise BusError(f"{path}: expected a JSON object of user -> password")
            self._passwords = {str(k): v for k, v in loaded.items()}

    def password(self, user: str) -> str:
        """The password of ``user``: from the environment, the store, or newly generated."""
        env_value = self._env.get(PASSWORD_ENV_PREFIX + password_var(user)[3:])
        if env_value:
            self._passwords[user] = env_value
        elif user not in self._passwords:
            self._passwords[user] = secrets.token_urlsafe(24)
        return self._passwords[user]

    def save(self) -> None:
        """Write the store (0600; the file is created with that mode, never world-readable)."""
        _write_private(self.path, json.dumps(self._passwords, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True, slots=True)
class Listen:
    """Where a server listens; ``leaf_port`` only on hubs that accept leaf nodes."""

    host: str = "127.0.0.1"
    port: int = 4222
    http_port: int = 8222
    leaf_port: int | None = None


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """TLS for a server: its certificate and key, and the CA whose client certificates it requires.

    With it, clients, accepted leaf nodes and this server's own uplink all use mutual TLS.
    """

    cert_file: Path
    key_file: Path
    ca_file: Path

    def server_block(self) -> dict[str, object]:
        """``tls {}`` of a listener: present our certificate, require and verify the peer's."""
        return {
            "cert_file": str(self.cert_file),
            "key_file": str(self.key_file),
            "ca_file": str(self.ca_file),
            "verify": True,
            "timeout": 5,
        }

    def remote_block(self) -> dict[str, object]:
        """``tls {}`` of a leaf remote: our client certificate and the CA of the hub's."""
        return {
            "cert_file": str(self.cert_file),
            "key_file": str(self.key_file),
            "ca_file": str(self.ca_file),
        }


@dataclass(frozen=True, slots=True)
class Uplink:
    """A leaf-node connection to an upstream hub (``nats-leaf://host:port`` URLs, no credentials)."""

    urls: tuple[str, ...]
    user: str


@dataclass(slots=True)
class GeneratedConfig:
    """What the generator wrote: the config, its secrets include, and the users it defines."""

    config_path: Path
    secrets_path: Path
    domain: str
    users: dict[str, str] = field(default_factory=dict)
    creds: dict[str, Path] = field(default_factory=dict)


class _Var:
    def __init__(self, name: str) -> None:
        self.name = name


def _render(value: object, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, _Var):
        return f"${value.name}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        inner = "".join(f"{pad}  {k}: {_render(v, indent + 1)}\n" for k, v in value.items())
        return "{\n" + inner + pad + "}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | _Var) for v in value):
            return "[" + ", ".join(_render(v) for v in value) + "]"
        return "[\n" + "".join(f"{pad}  {_render(v, indent + 1)}\n" for v in value) + pad + "]"
    raise BusError(f"cannot render {type(value).__name__} in a nats-server config")


def _perms(
    pub_allow: Iterable[str], sub_allow: Iterable[str], sub_deny: Iterable[str] = ()
) -> dict[str, object]:
    sub: dict[str, object] = {"allow": list(sub_allow)}
    deny = list(sub_deny)
    if deny:
        sub["deny"] = deny
    return {"publish": {"allow": list(pub_allow)}, "subscribe": sub}


def agency_permissions(agency: str, agencies: Sequence[str] = AGENCIES) -> dict[str, object]:
    """An agency liaison: its share subjects and its own share stream, nothing of the others."""
    stream = share_stream(agency)
    own = f"{SHARE_PREFIX}.{agency}.>"
    others = [f"{SHARE_PREFIX}.{a}.>" for a in agencies if a != agency]
    pub = [
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.*",
        f"$JS.API.CONSUMER.DELETE.{stream}.*",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
    ]
    deny = [*others, f"{EVENTS_PREFIX}.>", CLIPS_ALL, LIVE_ALL, f"{COMMANDS_PREFIX}.>", "_INBOX.>"]
    return _perms(pub, [own, f"{agency_inbox(agency)}.>"], deny)


def edge_permissions(center_id: str) -> dict[str, object]:
    """An edge connected straight to a hub: publish its own events, clips and live video, read its own
    commands and live-view leases."""
    commands = f"{COMMANDS_PREFIX}.{center_id}.>"
    pub = [
        f"{EVENTS_PREFIX}.*.*.{center_id}",
        f"{CLIPS_PREFIX}.*.*.{center_id}",
        f"{ACKS_PREFIX}.{center_id}",
        f"{ACKS_PREFIX}.{center_id}.picture",
        center_live_video(center_id),
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.INFO.HWARANG_COMMANDS",
        f"$JS.API.CONSUMER.CREATE.HWARANG_COMMANDS.*.{commands}",
        "$JS.API.CONSUMER.INFO.HWARANG_COMMANDS.*",
        "$JS.API.CONSUMER.MSG.NEXT.HWARANG_COMMANDS.*",
        "$JS.ACK.HWARANG_COMMANDS.>",
    ]
    return _perms(pub, ["_INBOX.>", commands, center_live_leases(center_id)])


def edge_leaf_permissions(center_id: str) -> dict[str, object]:
    """The edge on its center's leaf node: its own event, clip and live video subjects, its JetStream,
    its commands and its cameras' live-view leases."""
    commands = f"{COMMANDS_PREFIX}.{center_id}.>"
    own = [
        f"{EVENTS_PREFIX}.*.*.{center_id}",
        f"{CLIPS_PREFIX}.*.*.{center_id}",
        f"{ACKS_PREFIX}.{center_id}",
        f"{ACKS_PREFIX}.{center_id}.picture",
        center_live_video(center_id),
    ]
    return _perms([*own, "$JS.API.>", "$JS.ACK.>"], ["_INBOX.>", commands, center_live_leases(center_id)])


def _user(user: str, perms: Mapping[str, object] | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"user": user, "password": _Var(password_var(user))}
    if perms is not None:
        entry["permissions"] = dict(perms)
    return entry


def _remote(uplink: Uplink, tls: TlsFiles | None = None) -> dict[str, object]:
    remote: dict[str, object] = {
        "urls": [_Var(f"UPLINK_URL_{i}") for i in range(len(uplink.urls))],
        "account": ACCOUNT,
        "deny_exports": [EVENTS_ALL, CLIPS_ALL, ACKS_ALL],
        "deny_imports": [f"{COMMANDS_PREFIX}.>"],
    }
    if tls is not None:
        remote["tls"] = tls.remote_block()
    return remote


def _uplink_vars(uplink: Uplink, store: SecretStore, *, with_password: bool = True) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, url in enumerate(uplink.urls):
        scheme, sep, rest = url.partition("://")
        if not sep or "@" in rest:
            raise BusError(f"uplink URL {url!r}: expected nats-leaf://host:port without credentials")
        login = f"{uplink.user}:{store.password(uplink.user)}@" if with_password else ""
        out[f"UPLINK_URL_{i}"] = f"{scheme}://{login}{rest}"
    return out


def _operator_mode(
    body: dict[str, object],
    users: Sequence[Mapping[str, object]],
    authority: NatsAuthority,
    out_dir: Path,
    *,
    leaf_users: Sequence[str] = (),
    uplink_user: str | None = None,
) -> dict[str, Path]:
    """Turn a password config into operator (JWT) mode: trust the operator, write users' creds.

    Each user gets ``creds/<user>.creds`` (0600) with its permissions in its JWT; accepted leaf
    nodes authenticate with creds too, and the uplink presents ``creds/<uplink_user>.creds``.
    """
    body.pop("accounts", None)
    body.update(authority.server_block(out_dir))
    creds_dir = out_dir / "creds"
    creds: dict[str, Path] = {}
    for entry in users:
        name = str(entry["user"])
        perms = entry.get("permissions")
        creds[name] = authority.write_user_creds(
            creds_dir / f"{name}.creds", name, perms if isinstance(perms, Mapping) else None
        )
    for name in [*leaf_users, *([uplink_user] if uplink_user else [])]:
        creds[name] = authority.write_user_creds(creds_dir / f"{name}.creds", name)
    leafnodes = body.get("leafnodes")
    if isinstance(leafnodes, dict):
        leafnodes.pop("authorization", None)
        for remote in leafnodes.get("remotes", []):
            remote["account"] = authority.account_public_key
            if uplink_user:
                remote["credentials"] = str(creds[uplink_user])
    return creds


def _write(
    out_dir: Path,
    name: str,
    body: dict[str, object],
    users: Sequence[str],
    store: SecretStore,
    extra_vars: Mapping[str, str],
    domain: str,
) -> GeneratedConfig:
    out_dir.mkdir(parents=True, exist_ok=True)
    secrets_path = out_dir / f"{name}.secrets.conf"
    config_path = out_dir / f"{name}.conf"
    passwords = {u: store.password(u) for u in users}
    lines = [f"# secrets for {name}.conf: keep private (mode 0600), never commit"]
    lines += [f"{password_var(u)} = {json.dumps(p)}" for u, p in passwords.items()]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra_vars.items()]
    _write_private(secrets_path, "\n".join(lines) + "\n")
    header = f"# Hwarang nats-server config: {name} (generated by 'hwarang nats config')\n"
    text = header + f'include "{secrets_path.name}"\n\n'
    text += "".join(f"{k}: {_render(v)}\n" for k, v in body.items())
    config_path.write_text(text, encoding="utf-8")
    store.save()
    return GeneratedConfig(config_path, secrets_path, domain, passwords)


def write_leaf_config(
    out_dir: Path,
    *,
    center_id: str,
    store_dir: Path,
    uplink_urls: Sequence[str],
    store: SecretStore,
    listen: Listen = Listen(),
    max_file_store: str = "20G",
    tls: TlsFiles | None = None,
    own_subject_only: bool = True,
    authority: NatsAuthority | None = None,
) -> GeneratedConfig:
    """A center's leaf node: local JetStream domain ``center-<id>``, local user ``edge``, uplink.

    The ``edge`` user may publish events only on the center's own subjects
    (``hwarang.events.*.*.<center>``); ``own_subject_only=False`` lifts that for load simulations
    that publish many simulated centers through one leaf (never in a deployment).
    """
    domain = center_domain(center_id)
    uplink = Uplink(tuple(uplink_urls), leaf_user(center_id))
    body: dict[str, object] = {
        "server_name": f"leaf-{center_id}",
        "listen": f"{listen.host}:{listen.port}",
        "http": f"{listen.host}:{listen.http_port}",
        "jetstream": {"store_dir": str(store_dir), "domain": domain, "max_file_store": max_file_store},
        "accounts": {
            ACCOUNT: {
                "jetstream": "enabled",
                "users": [
                    _user(EDGE_LOCAL_USER, edge_leaf_permissions(center_id) if own_subject_only else None)
                ],
            }
        },
        "leafnodes": {"remotes": [_remote(uplink, tls)]},
    }
    if tls is not None:
        body["tls"] = tls.server_block()
    name = f"leaf-{center_id}"
    if authority is not None:
        local = _user(EDGE_LOCAL_USER, edge_leaf_permissions(center_id) if own_subject_only else None)
        creds = _operator_mode(body, [local], authority, out_dir, uplink_user=uplink.user)
        extra = _uplink_vars(uplink, store, with_password=False)
        written = _write(out_dir, name, body, [], store, extra, domain)
        written.creds = creds
        return written
    extra = _uplink_vars(uplink, store)
    return _write(out_dir, name, body, [EDGE_LOCAL_USER], store, extra, domain)


def write_hub_config(
    out_dir: Path,
    *,
    role: Literal["regional", "national"],
    hub_id: str,
    store_dir: Path,
    store: SecretStore,
    leaves: Sequence[str] = (),
    direct_centers: Sequence[str] = (),
    agencies: Sequence[str] = AGENCIES,
    uplink_urls: Sequence[str] = (),
    listen: Listen = Listen(leaf_port=7422),
    max_file_store: str = "200G",
    tls: TlsFiles | None = None,
    authority: NatsAuthority | None = None,
) -> GeneratedConfig:
    """A regional or national hub: accepts leaf nodes, holds hub/edge/agency users.

    ``leaves`` are the downstream leaf ids (centers for a regional hub, regions for the national
    one); a regional hub with ``uplink_urls`` is itself a leaf of the national hub.
    """
    if role == "national" and uplink_urls:
        raise BusError("the national hub has no uplink")
    domain = NATIONAL_DOMAIN if role == "national" else region_domain(hub_id)
    users = [
        _user(HUB_USER),
        *(_user(f"edge-{_slug('center id', c)}", edge_permissions(c)) for c in direct_centers),
        *(_user(a, agency_permissions(_slug("agency", a), agencies)) for a in agencies),
    ]
    user_names = [str(u["user"]) for u in users]
    body: dict[str, object] = {
        "server_name": f"{role}-{hub_id}",
        "listen": f"{listen.host}:{listen.port}",
        "http": f"{listen.host}:{listen.http_port}",
        "jetstream": {"store_dir": str(store_dir), "domain": domain, "max_file_store": max_file_store},
        "accounts": {ACCOUNT: {"jetstream": "enabled", "users": users}},
    }
    if tls is not None:
        body["tls"] = tls.server_block()
    leafnodes: dict[str, object] = {}
    if listen.leaf_port is not None:
        leaf_users = [{**_user(leaf_user(n)), "account": ACCOUNT} for n in leaves]
        leafnodes["listen"] = f"{listen.host}:{listen.leaf_port}"
        if tls is not None:
            leafnodes["tls"] = tls.server_block()
        if leaf_users:
            leafnodes["authorization"] = {"users": leaf_users}
        user_names += [leaf_user(n) for n in leaves]
    extra: dict[str, str] = {}
    uplink_user = leaf_user(hub_id) if uplink_urls else None
    if uplink_urls:
        uplink = Uplink(tuple(uplink_urls), leaf_user(hub_id))
        leafnodes["remotes"] = [_remote(uplink, tls)]
        extra = _uplink_vars(uplink, store, with_password=authority is None)
    if leafnodes:
        body["leafnodes"] = leafnodes
    name = f"{role}-{hub_id}"
    if authority is not None:
        leaf_names = [leaf_user(n) for n in leaves] if listen.leaf_port is not None else []
        creds = _operator_mode(
            body, users, authority, out_dir, leaf_users=leaf_names, uplink_user=uplink_user
        )
        written = _write(out_dir, name, body, [], store, extra, domain)
        written.creds = creds
        return written
    return _write(out_dir, name, body, user_names, store, extra, domain)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


def generate(
    role: Role,
    node_id: str,
    out_dir: Path,
    *,
    store_dir: Path,
    listen: Listen,
    uplink_urls: Sequence[str] = (),
    leaves: Sequence[str] = (),
    direct_centers: Sequence[str] = (),
    agencies: Sequence[str] = AGENCIES,
    secrets_path: Path | None = None,
    tls: TlsFiles | None = None,
    authority: NatsAuthority | None = None,
) -> GeneratedConfig:
    """Write the config of one role (``hwarang nats config``); passwords kept in ``secrets.json``."""
    store = SecretStore(secrets_path or out_dir / SECRETS_FILE)
    if role == "leaf":
        if not uplink_urls:
            raise BusError("a leaf node needs at least one --uplink nats-leaf://HUB:PORT")
        return write_leaf_config(
            out_dir,
            center_id=node_id,
            store_dir=store_dir,
            uplink_urls=uplink_urls,
            store=store,
            listen=listen,
            tls=tls,
            authority=authority,
        )
    return write_hub_config(
        out_dir,
        role=role,
        hub_id=node_id,
        store_dir=store_dir,
        store=store,
        leaves=leaves,
        direct_centers=direct_centers,
        agencies=agencies,
        uplink_urls=uplink_urls,
        listen=listen,
        tls=tls,
        authority=authority,
    )
