"""However active a session is, it ends SESSION_ABSOLUTE_SECONDS after the
log-in; the inactivity expiry (SESSION_COOKIE_AGE) stays as it was."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from followup.sessions import LOGGED_IN_AT
from tests.factories import TEST_PASSWORD

START = dt.datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MESSAGE = "Your session reached its maximum length of 12 hours; please log in again."


def log_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def busy_for(client, clock, duration: dt.timedelta) -> None:
    """Move the clock on by duration, with a keep-alive ping every quarter of
    an hour (so the inactivity expiry never strikes) except at the very end."""
    step = dt.timedelta(minutes=15)
    while duration > step:
        clock.shift(step)
        duration -= step
        assert client.get(reverse("keepalive")).status_code == 204
    clock.shift(duration)


def test_the_default_maximum_is_twelve_hours(settings):
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60


def test_log_in_stores_the_log_in_time_in_the_session(client, nurse):
    with time_machine.travel(START, tick=False):
        log_in(client, nurse)
        assert client.session[LOGGED_IN_AT] == int(START.timestamp())


def test_a_session_kept_busy_by_the_keep_alive_still_ends_after_twelve_hours(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=11, minutes=59, seconds=59))
        assert client.get(reverse("calls:worklist")).status_code == 200

        clock.shift(dt.timedelta(seconds=1))
        response = client.get(reverse("calls:worklist") + "?tab=all")
        assert response.status_code == 302
        assert response["Location"] == reverse("login") + "?next=/calls/%3Ftab%3Dall"
        assert "_auth_user_id" not in client.session
        assert LOGGED_IN_AT not in client.session
        page = client.get(response["Location"]).content.decode()
    assert MESSAGE in page


def test_the_message_is_in_chinese_for_a_chinese_browser(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=12))
        response = client.get(reverse("calls:worklist"), headers={"accept-language": "zh-hans"})
        page = client.get(response["Location"], headers={"accept-language": "zh-hans"}).content.decode()
    assert "会话已达到最长时长 12 小时，请重新登录。" in page


def test_a_fragment_or_the_keep_alive_is_told_to_go_to_the_log_in_page(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=12))
        ping = client.get(reverse("keepalive"))
        assert "_auth_user_id" not in client.session
    assert (ping.status_code, ping["HX-Redirect"]) == (401, reverse("login"))


def test_an_htmx_request_gets_a_redirect_header_not_the_log_in_page(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=12))
        response = client.get(reverse("complaints:notification_badge"), headers={"hx-request": "true"})
    assert (response.status_code, response["HX-Redirect"]) == (401, reverse("login"))


def test_a_post_after_the_maximum_changes_nothing_and_goes_to_the_log_in_page(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=12))
        response = client.post(reverse("password_change"), {"old_password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/"


def test_logging_in_again_starts_a_new_twelve_hours(client, nurse):
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=12))
        assert client.get(reverse("calls:worklist")).status_code == 302
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(hours=11, minutes=59))
        assert client.get(reverse("calls:worklist")).status_code == 200


@pytest.mark.parametrize("value", [None, "2026-11-23", "1e99"])
def test_a_session_without_a_valid_log_in_time_is_over(client, nurse, value):
    client.force_login(nurse)
    session = client.session
    if value is None:
        del session[LOGGED_IN_AT]
    else:
        session[LOGGED_IN_AT] = value
    session.save()
    response = client.get(reverse("calls:worklist"))
    assert (response.status_code, response["Location"]) == (302, reverse("login") + "?next=/calls/")


def test_a_shorter_maximum_is_read_from_the_setting_and_said_in_minutes(client, nurse, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 90 * 60
    with time_machine.travel(START, tick=False) as clock:
        log_in(client, nurse)
        busy_for(client, clock, dt.timedelta(minutes=90))
        response = client.get(reverse("calls:worklist"), follow=True)
    assert "Your session reached its maximum length of 90 minutes; please log in again." in response.content.decode()


def test_the_inactivity_expiry_is_unchanged(client, nurse, settings):
    log_in(client, nurse)
    response = client.get(reverse("keepalive"))
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE == 30 * 60
