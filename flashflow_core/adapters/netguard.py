"""Which addresses the fetcher may connect to: the guard against server-side request forgery.

Only http and https URLs are accepted, and only public addresses: private, loopback, link-local,
unspecified, multicast, reserved and cloud-metadata addresses are refused unless
FLASHFLOW_FETCH_ALLOW_HOSTS names them (a host name, an address or a CIDR network). A host name
is resolved and EVERY address it resolves to must pass; `resolve` returns the checked addresses
so the caller connects to exactly those (no second lookup an attacker could answer differently).
Metadata addresses pass only when listed one by one, never through a network entry.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from flashflow_core.adapters.base import PermanentError, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple]

ALLOWED_SCHEMES = ("http", "https")
ALLOW_VARIABLE = "FLASHFLOW_FETCH_ALLOW_HOSTS"

# Instance-metadata endpoints of the big clouds. Some are public-range addresses (Azure's
# 168.63.129.16), so the generic "not a public address" rule would not catch them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure wire server
    )
)
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(PermanentError):
    """The URL points somewhere the fetcher must not go; the message says why."""


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why this address is not a public one ("a loopback address"...), or None when it is public."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    inner = _embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        return f"{problem} (inside the IPv6 address)" if problem else None
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a private address (carrier-grade NAT)"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


@dataclass(frozen=True)
class AddressPolicy:
    """The fetcher's address rules, built from FLASHFLOW_FETCH_ALLOW_HOSTS."""

    allow_names: frozenset[str] = frozenset()
    allow_addresses: frozenset[IPAddress] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        """Sort allowlist entries into host names, single addresses and networks."""
        names, addresses, networks = set(), set(), []
        for raw in entries:
            entry = _normal_host(raw)
            if not entry:
                continue
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            try:
                addresses.add(ipaddress.ip_address(entry))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), frozenset(addresses), tuple(networks))

    def host_allowlisted(self, host: str) -> bool:
        """Whether the host itself (a name, or a literal address) is on the allowlist; no DNS."""
        host = _normal_host(host)
        if host in self.allow_names:
            return True
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return self._address_allowlisted(ip)

    def _address_allowlisted(self, ip: IPAddress) -> bool:
        if ip in self.allow_addresses:
            return True
        if ip in METADATA_ADDRESSES:
            return False
        return any(ip.version == net.version and ip in net for net in self.allow_networks)

    def check_address(self, ip: IPAddress, host: str) -> None:
        """Raise AddressRefused unless `host`'s address `ip` may be contacted."""
        host = _normal_host(host)
        if self._address_allowlisted(ip) or (host in self.allow_names and ip not in METADATA_ADDRESSES):
            return
        problem = address_problem(ip)
        if problem is None:
            return
        shown = str(ip) if host == str(ip) else f"{host} ({ip})"
        hint = "" if ip in METADATA_ADDRESSES else f"; list it in {ALLOW_VARIABLE} to allow it"
        raise AddressRefused(f"refused: {shown} is {problem}{hint}")

    def resolve(self, host: str, port: int) -> list[AddrInfo]:
        """Resolve `host` and check every address; return the checked addresses to connect to."""
        host = _normal_host(host)
        if host in METADATA_HOSTS and host not in self.allow_names:
            raise AddressRefused(f"refused: {host} is a cloud metadata address")
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                raise PermanentError(f"the host name {host} does not exist (DNS lookup failed)") from exc
            raise TransientError(f"could not resolve the host name {host}: {exc.strerror}") from exc
        if not infos:
            raise TransientError(f"could not resolve the host name {host}: no addresses")
        for info in infos:
            self.check_address(ipaddress.ip_address(info[4][0].split("%", 1)[0]), host)
        return infos

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme is not http(s) or whose host resolves to a refused address."""
        parts = check_scheme(url)
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError as exc:
            raise AddressRefused(f"refused: the URL has an invalid port ({url})") from exc
        self.resolve(parts.hostname or "", port)


def check_scheme(url: str) -> SplitResult:
    """Split the URL; refuse any scheme but http and https, and URLs without a host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise AddressRefused(f"refused: only http and https URLs are accepted (got {scheme or 'no scheme'})")
    if not parts.hostname:
        raise AddressRefused(f"refused: the URL has no host name ({url})")
    return parts
