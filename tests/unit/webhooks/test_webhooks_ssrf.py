"""Webhook URLs: public http(s) only, every resolved address vetted, numeric tricks refused."""

from __future__ import annotations

import re

import pytest
from mantra.alerts.webhooks.ssrf import UnsafeUrl, UrlGuard
from mantra.errors import Invalid
from webhook_fakes import resolver, user, world

PUBLIC = "93.184.215.14"


def guard(dns: dict[str, list[str]] | None = None, allowed: tuple[str, ...] = ()) -> UrlGuard:
    return UrlGuard(allowed, resolver(dns or {}))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("fc00::1", "unique-local"),
        ("::ffff:127.0.0.1", "embeds 127.0.0.1, which is loopback"),
        ("::ffff:169.254.169.254", "embeds 169.254.169.254, which is a cloud metadata"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1, which is private"),
        ("64:ff9b::7f00:1", "embeds 127.0.0.1"),
        ("2002:7f00:1::1", "embeds 127.0.0.1"),
        ("198.18.0.1", "private"),
        ("192.0.2.1", "private"),
    ],
)
def test_a_hostname_resolving_to_a_non_public_address_is_refused(address: str, reason: str):
    with pytest.raises(UnsafeUrl, match=reason):
        guard({"evil.example.com": [address]}).check("https://evil.example.com/hook")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.5:9000/x",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_ip_literals_are_vetted_without_dns(url: str):
    with pytest.raises(UnsafeUrl, match="public addresses only"):
        guard().check(url)


@pytest.mark.parametrize(
    ("url", "means"),
    [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f000001/", "127.0.0.1"),
        ("http://017700000001/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://2852039166/", "169.254.169.254"),
    ],
)
def test_decimal_hex_and_octal_ip_forms_are_refused(url: str, means: str):
    with pytest.raises(UnsafeUrl, match=f"means {means}"):
        guard().check(url)


def test_every_resolved_address_is_checked_not_just_the_first():
    dns = {"mixed.example.com": [PUBLIC, "10.0.0.7"]}
    with pytest.raises(UnsafeUrl, match=re.escape("resolves to 10.0.0.7, which is private")):
        guard(dns).check("https://mixed.example.com/")


def test_localhost_by_name_is_refused():
    with pytest.raises(UnsafeUrl, match="loopback"):
        guard({"localhost": ["127.0.0.1", "::1"]}).check("http://localhost:8000/api")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://hooks.example.com/", "only http and https"),
        ("hooks.example.com/path", "only http and https"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://nx.example.com/", "does not resolve"),
    ],
)
def test_malformed_or_non_http_urls_are_refused_with_the_reason(url: str, reason: str):
    with pytest.raises(UnsafeUrl, match=reason):
        guard({"hooks.example.com": [PUBLIC]}).check(url)


def test_a_public_address_passes_and_the_target_pins_the_vetted_addresses():
    target = guard({"hooks.example.com": [PUBLIC, "2606:4700::1111"]}).check(
        "https://Hooks.Example.com:8443/in?x=1"
    )
    assert target.addresses == (PUBLIC, "2606:4700::1111")
    assert target.host == "hooks.example.com"
    assert target.host_header == "hooks.example.com:8443"
    assert target.path == "/in?x=1"


def test_allowed_networks_let_loopback_through_for_tests_and_local_only():
    local = guard(allowed=("127.0.0.0/8",))
    assert local.check("http://127.0.0.1:9000/hook").addresses == ("127.0.0.1",)
    assert local.check("http://[::ffff:127.0.0.1]:9000/").addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeUrl):
        local.check("http://10.0.0.1/")
    with pytest.raises(UnsafeUrl):
        guard().check("http://127.0.0.1:9000/hook")


def test_registration_refuses_an_unsafe_url_with_a_422_reason():
    w = world()
    with pytest.raises(Invalid, match="public addresses only"):
        w.service.create(user(), "http://169.254.169.254/latest", "", ["alert.triggered"])
    assert w.endpoints.items == {}


def test_a_name_that_later_resolves_inside_is_refused_at_delivery_and_nothing_is_sent():
    # Given an endpoint registered while its name was public
    w = world()
    pro = user()
    w.service.create(pro, "https://hooks.example.in/tm", "", ["alert.triggered"])
    # When DNS now answers with the metadata address (rebinding)
    w.deliverer._guard._resolve = resolver({"hooks.example.in": ["169.254.169.254"]})  # type: ignore[attr-defined]
    statuses = w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    # Then nothing was sent and the attempt is logged as refused, to be retried later
    assert w.sender.sent == []
    assert statuses[0].endswith(":retry_scheduled")
    (delivery,) = w.deliveries.items.values()
    assert delivery.attempts[0].error is not None and "cloud metadata" in delivery.attempts[0].error
