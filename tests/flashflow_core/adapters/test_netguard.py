"""The fetcher's address policy: which URLs and addresses are refused, with which words."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from flashflow_core.adapters.base import PermanentError, TransientError
from flashflow_core.adapters.netguard import AddressPolicy, AddressRefused, address_problem, check_scheme

NO_ALLOW = AddressPolicy.from_entries([])


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "a private address (carrier-grade NAT)"),
        ("192.0.2.10", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("::ffff:127.0.0.1", "a loopback address (inside the IPv6 address)"),
        ("::ffff:169.254.169.254", "a cloud metadata address (inside the IPv6 address)"),
        ("2002:a00:1::", "a private address (inside the IPv6 address)"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address (inside the IPv6 address)"),
    ],
)
def test_non_public_addresses_are_named(address: str, problem: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.69", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
    NO_ALLOW.check_address(ipaddress.ip_address(address), address)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("file:///etc/passwd", "file"), ("ftp://example.com/a.mp4", "ftp"), ("gopher://x/", "gopher"),
     ("javascript:alert(1)", "javascript"), ("//example.com/a.mp4", "no scheme")],
)
def test_only_http_and_https_are_accepted(url: str, scheme: str) -> None:
    with pytest.raises(AddressRefused, match=rf"^refused: only http and https URLs are accepted \(got {scheme}\)$"):
        check_scheme(url)


def test_url_without_host_is_refused() -> None:
    with pytest.raises(AddressRefused, match="has no host name"):
        check_scheme("http:///video.mp4")


def test_metadata_url_is_refused_with_its_name() -> None:
    with pytest.raises(AddressRefused, match=r"^refused: 169\.254\.169\.254 is a cloud metadata address$"):
        NO_ALLOW.check_url("http://169.254.169.254/latest/meta-data/")


def test_metadata_host_name_is_refused_without_dns() -> None:
    with pytest.raises(AddressRefused, match="metadata.google.internal is a cloud metadata address"):
        NO_ALLOW.check_url("http://metadata.google.internal/computeMetadata/v1/")


def test_loopback_by_name_is_refused_and_hint_names_the_setting() -> None:
    with pytest.raises(AddressRefused) as caught:
        NO_ALLOW.check_url("http://localhost:8080/x.mp4")
    message = str(caught.value)
    assert message.startswith("refused: localhost (")
    assert "is a loopback address" in message
    assert "FLASHFLOW_FETCH_ALLOW_HOSTS" in message


def test_decimal_ip_host_is_resolved_and_refused() -> None:
    # 2130706433 is 127.0.0.1 written as one number; the check is on what it resolves to.
    with pytest.raises(AddressRefused, match=r"\(127\.0\.0\.1\) is a loopback address"):
        NO_ALLOW.check_url("http://2130706433/")


def test_allowlist_by_address_network_and_name() -> None:
    policy = AddressPolicy.from_entries(["127.0.0.1", "10.0.0.0/8", "LocalHost."])
    assert policy.host_allowlisted("127.0.0.1")
    assert policy.host_allowlisted("10.20.30.40")
    assert policy.host_allowlisted("localhost")
    assert not policy.host_allowlisted("127.0.0.2")
    assert not policy.host_allowlisted("example.com")
    policy.check_url("http://127.0.0.1:9/x")
    policy.check_address(ipaddress.ip_address("10.9.9.9"), "minio.internal")
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.2 is a loopback address"):
        policy.check_url("http://127.0.0.2:9/x")


def test_network_entry_never_opens_a_metadata_address() -> None:
    policy = AddressPolicy.from_entries(["169.254.0.0/16", "metadata.example"])
    metadata = ipaddress.ip_address("169.254.169.254")
    with pytest.raises(AddressRefused, match="cloud metadata address"):
        policy.check_address(metadata, "169.254.169.254")
    with pytest.raises(AddressRefused, match="cloud metadata address"):
        policy.check_address(metadata, "metadata.example")
    policy.check_address(ipaddress.ip_address("169.254.1.1"), "169.254.1.1")
    AddressPolicy.from_entries(["169.254.169.254"]).check_address(metadata, "169.254.169.254")


def test_every_resolved_address_must_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """One private address among public ones is enough to refuse the host."""
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(AddressRefused, match=r"^refused: mixed\.example \(10\.0\.0\.7\) is a private address"):
        NO_ALLOW.resolve("mixed.example", 80)


def test_resolve_returns_the_checked_addresses() -> None:
    infos = AddressPolicy.from_entries(["127.0.0.0/8"]).resolve("127.0.0.1", 8080)
    assert {info[4][:2] for info in infos} == {("127.0.0.1", 8080)}


def _failing_lookup(code: int):
    def lookup(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(code, "lookup failed")

    return lookup


def test_unknown_host_name_is_a_permanent_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _failing_lookup(socket.EAI_NONAME))
    with pytest.raises(PermanentError, match=r"^the host name no-such-host\.example does not exist") as caught:
        NO_ALLOW.resolve("no-such-host.example", 80)
    assert not isinstance(caught.value, TransientError)


def test_dns_outage_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _failing_lookup(socket.EAI_AGAIN))
    with pytest.raises(TransientError, match=r"^could not resolve the host name example\.com"):
        NO_ALLOW.resolve("example.com", 443)
