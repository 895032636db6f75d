"""The client address of a request: the peer, or ``X-Forwarded-For`` behind trusted proxies only."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, networks: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """The client of a request whose TCP peer is ``peer``.

    ``X-Forwarded-For`` is read only when the peer is a trusted proxy; its addresses are walked
    from the right (the nearest hop), skipping trusted proxies; the first other valid address is
    the client. Anything unparsable stops the walk at the last trusted hop.
    """
    if peer is None:
        return "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    client = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def connection_client(conn: HTTPConnection, trusted_proxies: tuple[str, ...]) -> str:
    """:func:`client_address` of an HTTP request or WebSocket."""
    peer = conn.client.host if conn.client is not None else None
    return client_address(peer, conn.headers.get("x-forwarded-for"), trusted_proxies)
