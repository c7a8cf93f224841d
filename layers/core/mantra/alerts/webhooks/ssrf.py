"""Where a webhook may go: public http(s) addresses only, checked on every resolved address.

The guard resolves the host once and returns the vetted addresses; the transport then connects to one of those
(never resolving again), so a DNS answer that changes between the check and the connect (rebinding) cannot
redirect a delivery inside our network. ``allowed_networks`` lets explicit networks through: for tests and the
local platform only (loopback receivers).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from mantra.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""host, port -> every address the name resolves to (as text)."""

MAX_URL_LENGTH = 2048
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UnsafeUrl(Invalid):
    """The URL may not receive webhooks; ``message`` says why (shown to the user as a 422)."""


@dataclass(frozen=True)
class Target:
    """A vetted destination: connect to ``addresses`` (in order), send ``host_header``, verify TLS for ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    host_header: str
    path: str  # path + query, at least "/"
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton's forms that are not dotted decimal: 2130706433, 0x7f000001, 017700000001, 127.1, 0x7f.1."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    values = []
    for p in parts:
        low = p.lower()
        try:
            if low.startswith("0x"):
                values.append(int(low[2:] or "0", 16))
            elif len(low) > 1 and low.startswith("0"):
                values.append(int(low[1:], 8))
            elif low.isdigit():
                values.append(int(low))
            else:
                return None
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (5 - len(values)))) + last
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    for net in _NAT64:
        if ip in net:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``ip`` may not receive a webhook, or None when it may."""
    allowed = tuple(allowed)
    if any(ip.version == n.version and ip in n for n in allowed):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = refusal(inner, allowed)
            return None if why is None else f"embeds {inner}, which is {why}"
    checks: tuple[tuple[bool, str], ...] = (
        (ip in _METADATA, "a cloud metadata address"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.version == 4 and ip in _CGNAT, "carrier-grade NAT (100.64.0.0/10)"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"), "unique-local"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((why for hit, why in checks if hit), None)


def _connectable(ip: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address is connected to as the IPv4 address it carries."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class UrlGuard:
    def __init__(self, allowed_networks: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self._allowed: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in allowed_networks)
        self._resolve = resolver

    def parse(self, url: str) -> tuple[SplitResult, str, int]:
        """Syntax only (no DNS): scheme, host and port. Raises ``UnsafeUrl``."""
        if len(url) > MAX_URL_LENGTH:
            raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if any(c.isspace() or ord(c) < 32 for c in url):
            raise UnsafeUrl("the URL contains whitespace or control characters")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise UnsafeUrl("only http and https URLs can receive webhooks")
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrl("credentials in the URL are not allowed; authenticate with the signature")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UnsafeUrl("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsafeUrl("the URL's port is not a number from 1 to 65535") from None
        if port == 0:
            raise UnsafeUrl("the URL's port is not a number from 1 to 65535")
        return parts, host, port

    def check(self, url: str) -> Target:
        """Resolve the host and vet every address. Raises ``UnsafeUrl`` with the reason."""
        parts, host, port = self.parse(url)
        literal = self._literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                resolved = self._resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise UnsafeUrl(f"the host {host} does not resolve ({exc.__class__.__name__})") from None
            if not resolved:
                raise UnsafeUrl(f"the host {host} does not resolve")
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
        for ip in addresses:
            why = refusal(ip, self._allowed)
            if why is not None:
                shown = host if literal is not None else f"{host} resolves to {ip}, which"
                raise UnsafeUrl(f"{shown} is {why}: webhooks go to public addresses only")
        default_port = 443 if parts.scheme == "https" else 80
        host_text = f"[{host}]" if ":" in host else host
        return Target(
            url=url,
            scheme=parts.scheme,
            host=host,
            port=port,
            host_header=host_text if port == default_port else f"{host_text}:{port}",
            path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            addresses=tuple(dict.fromkeys(str(_connectable(a)) for a in addresses)),
        )

    @staticmethod
    def _literal(host: str) -> IPAddress | None:
        try:
            return ipaddress.ip_address(host)
        except ValueError:
            pass
        legacy = _legacy_ipv4(host)
        if legacy is not None:
            raise UnsafeUrl(
                f"{host} is an ambiguous numeric address (it means {legacy}): write IPv4 addresses in"
                " dotted decimal"
            )
        return None
