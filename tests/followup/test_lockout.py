"""The log-in lockout counts failures per user name across addresses, and per
address across user names (password spraying), reading the client's address
through followup.net.client_ip (TRUSTED_PROXIES)."""

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


WRONG = "Not-My-Password-1"


def attempt(client, username, password=WRONG, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_limits(settings):
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT) == (5, 30)
    assert settings.AXES_CLIENT_IP_CALLABLE == "followup.net.client_ip"


def test_a_locked_account_cannot_log_in_from_another_address(client, nurse):
    for number in range(5):
        attempt(client, nurse.username, REMOTE_ADDR=f"203.0.113.{number + 1}")
    response = attempt(client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 429
    assert "Account locked for now" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_against_one_account_do_not_lock_another_from_the_same_address(client, nurse, head_nurse):
    for _ in range(5):
        attempt(client, nurse.username, REMOTE_ADDR="10.0.0.9")
    assert attempt(client, head_nurse.username, TEST_PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_spraying_from_one_address_is_throttled(client):
    """48 guesses spread over 12 accounts, 4 each (under the per-account limit of
    5): the address reaches its limit of 30 and is refused, even for a right password."""
    users = [UserFactory(username=f"nurse{number:02}") for number in range(12)]
    statuses = []
    for round_ in range(4):
        for user in users:
            statuses.append(
                attempt(client, user.username, f"Spring-{round_}-2026x", REMOTE_ADDR="198.51.100.7").status_code
            )
    assert statuses[:29] == [200] * 29
    assert set(statuses[29:]) == {429}
    assert attempt(client, users[0].username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 429
    # An account with 4 failures is not locked: its owner logs in from her own ward.
    assert attempt(client, users[1].username, TEST_PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 302


def test_a_successful_log_in_does_not_clear_the_address_count_of_other_accounts(client, nurse):
    victims = [UserFactory(username=f"ward{number:02}") for number in range(8)]
    for victim in victims:
        for _ in range(3):
            attempt(client, victim.username, REMOTE_ADDR="198.51.100.8")
    assert attempt(client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.8").status_code == 302
    client.post(reverse("logout"))
    for victim in victims[:6]:
        attempt(client, victim.username, REMOTE_ADDR="198.51.100.8")
    assert attempt(client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.8").status_code == 429


def test_behind_a_trusted_proxy_two_clients_are_counted_apart(client, nurse, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    others = [UserFactory(username=f"other{number}") for number in range(6)]
    for other in others:
        attempt(client, other.username, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.20")
    sprayer = attempt(
        client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.20"
    )
    neighbour = attempt(
        client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.21"
    )
    assert (sprayer.status_code, neighbour.status_code) == (429, 302)


def test_a_forged_forwarded_header_from_an_untrusted_address_changes_nothing(client, nurse, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    for number in range(6):
        attempt(client, f"nobody{number}", REMOTE_ADDR="198.51.100.30", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    response = attempt(
        client, nurse.username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.30", HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert response.status_code == 429
