"""The dashboard's self-report section (issue 22): response rate by channel,
time to response, calls spared, red flags and satisfaction by channel, with
the note that answers to a person and to a form differ."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from calls.dashboard.selectors import Period, dashboard_figures
from calls.models import FollowUpCall, SelfReportLink
from calls.selectors.self_report import self_report_figures
from calls.services.self_report import self_report_submit
from followup.figures import Rate

from .call_work_helpers import scripted_version, ward_of
from .self_report_helpers import NOW, issue_link, self_report_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def period_with_both_channels(settings, head_nurse):
    """Four calls due today in one ward: two links answered on the form 3 and
    5 hours after sending (the second with a red flag), one call completed
    by a nurse, one link never answered."""
    settings.DASHBOARD_MIN_N = 1
    sent = NOW - dt.timedelta(hours=5)
    with time_machine.travel(sent, tick=False):
        ward = ward_of(head_nurse)
        _version, chest, _note = scripted_version(department=ward)
        calls = [self_report_call(ward=ward, patient__phone=f"+86138000000{n:02d}") for n in range(4)]
        for call in (calls[0], calls[1], calls[3]):
            issue_link(call)
    for call, hours_after, answer in ((calls[0], 3, "no"), (calls[1], 5, "yes")):
        with time_machine.travel(sent + dt.timedelta(hours=hours_after), tick=False):
            self_report_submit(
                link=SelfReportLink.objects.get(call=call),
                answered_by="patient",
                answers={chest.pk: answer},
                satisfaction="satisfied",
                item_scores={},
            )
    FollowUpCall.objects.filter(pk=calls[2].pk).update(
        status="completed", channel="phone", satisfaction="basic", completed_at=NOW
    )
    return ward, calls


def test_the_figures_compare_the_form_and_the_phone(period_with_both_channels):
    ward, _calls = period_with_both_channels
    figures = self_report_figures(department_ids=[ward.pk], period=Period(NOW.date(), NOW.date()))

    assert figures.invited == 3
    assert figures.answered == Rate(2, 3)
    assert figures.median_hours == 4.0
    # The red-flag call back is due today too: 5 calls, 1 answered with no nurse needed.
    assert figures.spared == Rate(1, 5)
    assert figures.asked_for_call == 0
    phone, form = figures.channels
    assert (phone.completed, phone.reach, phone.red_flags, phone.satisfied) == (1, Rate(1, 3), Rate(0, 1), Rate(0, 1))
    assert (form.completed, form.reach, form.red_flags, form.satisfied) == (2, Rate(2, 3), Rate(1, 2), Rate(2, 2))


def test_the_dashboard_counts_the_same_self_report_figures(period_with_both_channels):
    # The dashboard takes the phone's figures from the totals it counted (on PostgreSQL its
    # summary tables) less the other channels': the same figures as counting every call.
    ward, calls = period_with_both_channels
    FollowUpCall.objects.filter(pk=calls[3].pk).update(status="cancelled", cancel_reason="declined")
    period = Period(NOW.date(), NOW.date())
    alone = self_report_figures(department_ids=[ward.pk], period=period)

    on_the_dashboard = dashboard_figures(department_ids=[ward.pk], period=period, today=NOW.date()).self_report

    assert on_the_dashboard == alone
    assert (alone.channels[0].completed, alone.channels[0].reach) == (1, Rate(1, 2))


def test_the_head_nurse_sees_the_section_with_the_note(period_with_both_channels, head_nurse):
    client = Client()
    client.force_login(head_nurse)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("calls:dashboard")).content.decode()

    assert "Self-report by text message" in html
    assert "66.7%" in html  # answered on the form: 2 of 3
    assert "4.0 h" in html
    assert "answers given on a form are not the same measurement" in html


def test_without_links_the_section_says_so(head_nurse, settings):
    client = Client()
    client.force_login(head_nurse)
    html = client.get(reverse("calls:dashboard")).content.decode()
    assert "No self-report links went out for the calls of this period." in html
