"""The client's address behind a trusted proxy (TRUSTED_PROXIES)."""

import pytest
from django.test import RequestFactory

from followup.net import client_ip


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("10.0.0.5", "203.0.113.9")) == "10.0.0.5"


def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request_from("10.0.0.5", "203.0.113.9")) == "203.0.113.9"


def test_a_forged_left_most_address_is_not_believed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    # The client wrote "1.2.3.4" itself; the proxy appended the real address.
    assert client_ip(request_from("10.0.0.5", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "10.1.0.0/16"]
    assert client_ip(request_from("10.0.0.5", "198.51.100.7, 10.1.4.4")) == "198.51.100.7"


def test_a_request_not_from_a_trusted_proxy_keeps_its_own_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request_from("192.0.2.1", "203.0.113.9")) == "192.0.2.1"


@pytest.mark.parametrize("header", ["", "not-an-address", "<script>", "\x00"])
def test_a_hostile_forwarded_header_falls_back_to_the_proxy(settings, header):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request_from("10.0.0.5", header)) == "10.0.0.5"


def test_ipv6_and_ports_are_read(settings):
    settings.TRUSTED_PROXIES = ["::1"]
    assert client_ip(request_from("::1", "[2001:db8::7]:5555")) == "2001:db8::7"
    assert client_ip(request_from("::1", "203.0.113.9:1234")) == "203.0.113.9"
