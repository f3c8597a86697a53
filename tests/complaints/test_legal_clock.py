"""The legal clock: working days from China's public holidays and make-up
working days (调休) plus the hospital's own days; the reply due within 5
working days (10 when several departments cooperate), configurable; a
first-response target per severity and per channel."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from complaints import sla
from complaints.models import (
    ChannelResponseTarget,
    Holiday,
    SlaPolicy,
    TimeUnit,
    WorkingCalendar,
)
from complaints.services import complaint_flag_sla_breaches, complaint_record_contact
from followup.models import Notification
from tests.complaints.conftest import at

NATIONAL = sla.Calendar(national=True)


def test_chinas_public_holidays_and_make_up_working_days_2026():
    # Spring Festival 2026: 15-23 February off, Saturday 14 and Saturday 28 are working days.
    assert [NATIONAL.is_working_day(dt.date(2026, 2, d)) for d in (13, 14, 16, 20, 23, 24, 28)] == [
        True,
        True,
        False,
        False,
        False,
        True,
        True,
    ]
    # National Day 2026: 1-7 October off; Sunday 20 September and Saturday 10 October work.
    assert [
        NATIONAL.is_working_day(d) for d in (dt.date(2026, 9, 20), dt.date(2026, 10, 5), dt.date(2026, 10, 10))
    ] == [
        True,
        False,
        True,
    ]


def test_a_hospitals_own_days_come_first():
    calendar = sla.Calendar(
        national=True,
        days_off=frozenset({dt.date(2026, 11, 24)}),  # the hospital's anniversary
        working_days=frozenset({dt.date(2026, 10, 5)}),  # the desk opens on a public holiday
    )
    assert (calendar.is_working_day(dt.date(2026, 11, 24)), calendar.is_working_day(dt.date(2026, 10, 5))) == (
        False,
        True,
    )


@pytest.mark.django_db
def test_the_reply_is_due_at_the_close_of_the_fifth_working_day_across_the_national_day():
    # Received Tuesday 29 September; 30 Sep is day 1, 1-7 Oct are off, 8 Oct (Thu) day 2,
    # 9 Oct day 3, Saturday 10 Oct (a make-up day) day 4, Monday 12 Oct day 5.
    due = sla.deadlines(received_at=at(2026, 9, 29, 15, 0), severity="general")
    assert due.reply == at(2026, 10, 12, 17, 30)
    several = sla.deadlines(received_at=at(2026, 9, 29, 15, 0), severity="general", coordinated=True)
    # 10 working days: 30 Sep, 8, 9, 10, 12, 13, 14, 15, 16, 19 October
    assert several.reply == at(2026, 10, 19, 17, 30)


@pytest.mark.django_db
def test_without_national_holidays_the_weekdays_alone_count():
    WorkingCalendar.objects.update(national_holidays=False)
    due = sla.deadlines(received_at=at(2026, 9, 29, 15, 0), severity="general")
    assert due.reply == at(2026, 10, 6, 17, 30)  # 30 Sep, 1, 2, 5, 6 October


@pytest.mark.django_db
def test_admin_days_and_policy_move_the_reply_deadline():
    Holiday.objects.create(date=dt.date(2026, 11, 24), name="Hospital anniversary")
    Holiday.objects.create(date=dt.date(2026, 11, 28), name="Saturday clinic", is_working_day=True)
    SlaPolicy.objects.filter(severity="general").update(reply_days=3)
    due = sla.deadlines(received_at=at(2026, 11, 23, 9, 0), severity="general")
    assert due.reply == at(2026, 11, 27, 17, 30)  # 25, 26, 27 (the 24th is closed)
    SlaPolicy.objects.filter(severity="general").update(reply_days=4)
    assert sla.deadlines(received_at=at(2026, 11, 23, 9, 0), severity="general").reply == at(2026, 11, 28, 17, 30)


@pytest.mark.django_db
def test_a_channel_target_sooner_than_the_severitys_counts():
    ChannelResponseTarget.objects.create(
        channel="hotline", first_response_value=30, first_response_unit=TimeUnit.MINUTES
    )
    hotline = sla.deadlines(received_at=at(2026, 11, 23, 9, 0), severity="general", channel="hotline")
    letter = sla.deadlines(received_at=at(2026, 11, 23, 9, 0), severity="general", channel="letter")
    assert (hotline.first_response, letter.first_response) == (at(2026, 11, 23, 9, 30), at(2026, 11, 24, 9, 0))
    # an urgent complaint keeps its own sooner target
    ChannelResponseTarget.objects.filter(channel="hotline").update(first_response_value=2, first_response_unit="hours")
    urgent = sla.deadlines(received_at=at(2026, 11, 23, 9, 0), severity="urgent", channel="hotline")
    assert urgent.first_response == at(2026, 11, 23, 9, 30)


@pytest.mark.django_db
def test_a_complaint_involving_two_departments_gets_ten_working_days(make_complaint, ward, other_ward):
    one = make_complaint(received_at=at(2026, 11, 23, 9, 0))
    two = make_complaint(received_at=at(2026, 11, 23, 9, 0), departments=[ward, other_ward])
    assert (one.coordinated, one.reply_due) == (False, at(2026, 11, 30, 17, 30))
    assert (two.coordinated, two.reply_due) == (True, at(2026, 12, 7, 17, 30))


@pytest.mark.django_db
def test_a_late_reply_is_flagged_and_notified(make_complaint, officer):
    complaint = make_complaint(received_at=at(2026, 11, 23, 9, 0))
    complaint_record_contact(complaint=complaint, by=officer, text="x", at=at(2026, 11, 23, 9, 5))
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=False):
        assert complaint_flag_sla_breaches() == 1  # the resolution (7 working days) is due 2 December
    complaint.refresh_from_db()
    assert (complaint.reply_breached, complaint.resolution_breached) == (True, False)
    texts = set(Notification.objects.filter(recipient=officer).values_list("text", flat=True))
    assert f"{complaint.reference}: the reply to the complainant is late (was due 2026-11-30 17:30)." in texts


def test_the_calendar_admin_pages_open_for_the_administrator(client_for, admin_user):
    for name in ("holiday", "channelresponsetarget", "slapolicy", "workingcalendar"):
        response = client_for(admin_user).get(reverse(f"admin:complaints_{name}_add"))
        assert (name, response.status_code) == (name, 200)
