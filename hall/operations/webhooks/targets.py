"""Where a webhook may go: public addresses only, unless the hall's layout allow-lists the host.

A manager types a webhook's URL; without this check the server would post (and retry) to
loopback, the hall's private network or a cloud metadata service on their behalf (a
server-side request forgery). So a target is resolved and refused when any address it resolves
to is not globally routable — loopback, private, link-local (169.254.169.254 metadata),
CGNAT 100.64/10, multicast, reserved, and IPv4 addresses mapped into IPv6. The check runs when
the endpoint is registered and again before every post (DNS can change in between), and
deliveries never follow redirects (a 3xx is a failed attempt), so there is no second hop to check.

A hall that does post to an internal receiver names it in its layout file, which only an admin
writes (managers cannot change it through the settings API):

    [server]
    webhook_allow_hosts = ["hooks.internal.example", "10.1.2.3"]
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["UnsafeTarget", "TargetGuard", "allowed_hosts", "refused_address"]

Resolver = Callable[[str, int], Iterable[str]]

# Not "global" by ipaddress's reading yet worth naming: documentation ranges are reserved, the
# metadata address is link-local, CGNAT is shared address space; `is_global` covers them all.
_EXTRA_BLOCKED = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("fd00:ec2::/32"))


class UnsafeTarget(ValueError):
    """A webhook URL that may not be posted to; the message says why."""


def refused_address(text: str) -> str | None:
    """Why this IP address may not be a webhook target, or None when it is public."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is link-local (cloud metadata lives there)"
    if any(ip in net for net in _EXTRA_BLOCKED):
        return f"{ip} is shared or metadata address space"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def allowed_hosts(layout_source: Mapping[str, Any] | None) -> frozenset[str]:
    """The hosts the hall's layout file allow-lists (`[server] webhook_allow_hosts`)."""
    server = (layout_source or {}).get("server")
    hosts = server.get("webhook_allow_hosts") if isinstance(server, Mapping) else None
    if not isinstance(hosts, list):
        return frozenset()
    return frozenset(str(h).strip().lower().rstrip(".") for h in hosts if str(h).strip())


@dataclass(frozen=True)
class TargetGuard:
    """Checks webhook URLs; `resolve(host, port)` gives the addresses a name stands for."""

    allow: frozenset[str] = frozenset()
    resolve: Resolver = field(default=_system_resolve)

    def with_allowed(self, hosts: Iterable[str]) -> TargetGuard:
        return TargetGuard(self.allow | frozenset(hosts), self.resolve)

    def check(self, url: str) -> None:
        """Raises UnsafeTarget unless `url` is http(s) to an allow-listed host or one whose every
        address is public. An unresolvable host is refused too (there is nothing to check)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnsafeTarget("url must be http(s)://host/…")
        if parts.username or parts.password:
            raise UnsafeTarget("url must not carry a user or password")
        host = parts.hostname.lower().rstrip(".")
        if host in self.allow:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsafeTarget("url has a bad port") from None
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            addresses: list[str] = [host]
        except ValueError:
            try:
                addresses = list(self.resolve(host, port))
            except (OSError, UnicodeError) as e:
                raise UnsafeTarget(f"{host} does not resolve: {e}") from None
        if not addresses:
            raise UnsafeTarget(f"{host} does not resolve")
        for address in addresses:
            why = refused_address(address)
            if why is not None:
                raise UnsafeTarget(f"{host}: {why}; allow-list it in the hall's layout ([server] webhook_allow_hosts)")
