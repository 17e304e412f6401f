"""The client's address: from the configured proxy header only when the socket peer is a
trusted proxy (YINZUNDA_TRUSTED_PROXIES), else the socket address. A client cannot choose its
own address by sending the header itself."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    networks = _networks(tuple(getattr(settings, "YINZUNDA_TRUSTED_PROXIES", ()) or ()))
    header = getattr(settings, "YINZUNDA_CLIENT_IP_HEADER", "")
    if not networks or not header or not _trusted(remote, networks):
        return remote
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    # Rightmost first: each trusted proxy appends the peer it saw; the first untrusted one is the client.
    for candidate in reversed([part.strip() for part in value.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote  # a garbled header: fall back to the socket
        if not _trusted(candidate, networks):
            return candidate
    return remote
