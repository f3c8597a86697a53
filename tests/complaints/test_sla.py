import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from complaints import services, sla
from complaints.models import Complaint, ComplaintEvent, Holiday, SlaPolicy, TimeUnit, WorkingCalendar
from complaints.tasks import check_sla_breaches
from followup.models import Notification
from followup.roles import Role
from tests.complaints.conftest import at
from tests.factories import UserFactory

CALENDAR = sla.Calendar()  # Monday to Friday, 08:00-17:30


def test_business_minutes_skip_the_weekend():
    friday_afternoon = at(2026, 11, 20, 16, 0)
    assert sla.add_business_minutes(friday_afternoon, 570, CALENDAR) == at(2026, 11, 23, 16, 0)


def test_business_minutes_skip_a_holiday_monday():
    calendar = sla.Calendar(days_off=frozenset({dt.date(2026, 11, 23)}))
    assert sla.add_business_minutes(at(2026, 11, 20, 16, 0), 570, calendar) == at(2026, 11, 24, 16, 0)


def test_time_received_outside_hours_starts_counting_at_the_next_opening():
    saturday = at(2026, 11, 21, 10, 0)
    assert sla.add_business_minutes(saturday, 240, CALENDAR) == at(2026, 11, 23, 12, 0)
    evening = at(2026, 11, 23, 19, 0)
    assert sla.add_business_minutes(evening, 30, CALENDAR) == at(2026, 11, 24, 8, 30)


def test_business_minutes_between_counts_only_open_hours():
    assert sla.business_minutes_between(at(2026, 11, 20, 17, 0), at(2026, 11, 23, 9, 0), CALENDAR) == 90


@pytest.mark.django_db
def test_default_deadlines_by_severity_across_a_weekend_and_a_holiday():
    Holiday.objects.create(date=dt.date(2026, 11, 23), name="Test holiday")
    friday = at(2026, 11, 20, 17, 20)
    # 10 minutes count on Friday, the rest from Tuesday 08:00 (Monday is a holiday)
    urgent = sla.deadlines(received_at=friday, severity="urgent")
    assert urgent[:2] == (at(2026, 11, 24, 8, 20), at(2026, 11, 24, 17, 20))
    major = sla.deadlines(received_at=friday, severity="major")
    assert major[:2] == (at(2026, 11, 24, 11, 50), at(2026, 11, 26, 17, 20))
    # general: 1 working day to answer, 7 to resolve (a working day is 9.5 hours)
    general = sla.deadlines(received_at=friday, severity="general")
    assert general[:2] == (at(2026, 11, 24, 17, 20), at(2026, 12, 2, 17, 20))
    # the legal reply: the close of the 5th working day after the day received (24, 25, 26, 27, 30)
    assert urgent.reply == major.reply == general.reply == at(2026, 11, 30, 17, 30)


@pytest.mark.django_db
def test_admin_edits_to_policy_and_calendar_change_the_deadlines():
    SlaPolicy.objects.filter(severity="urgent").update(first_response_value=2, first_response_unit=TimeUnit.HOURS)
    WorkingCalendar.objects.update(weekdays=[0, 1, 2, 3, 4, 5], start_time=dt.time(9, 0), end_time=dt.time(12, 0))
    first, resolution, _reply = sla.deadlines(received_at=at(2026, 11, 20, 11, 0), severity="urgent")
    assert first == at(2026, 11, 21, 10, 0)  # Saturday now works
    assert resolution == at(2026, 11, 21, 11, 0)  # one working day is now three hours


@pytest.mark.django_db
def test_waiting_for_the_complainant_pushes_the_deadlines_back(make_complaint, officer):
    complaint = make_complaint(received_at=at(2026, 11, 23, 9, 0))
    assert complaint.first_response_due == at(2026, 11, 24, 9, 0)
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        services.complaint_pause(complaint=complaint, by=officer, note="Waiting for the bill copy.")
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        complaint = services.complaint_resume(complaint=complaint, by=officer)
    assert complaint.paused_minutes == 570
    assert complaint.first_response_due == at(2026, 11, 25, 9, 0)
    assert complaint.resolution_due == at(2026, 12, 3, 9, 0)
    assert list(complaint.events.values_list("kind", flat=True)) == ["created", "paused", "resumed"]


@pytest.fixture
def urgent(make_complaint, head_nurse):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        return make_complaint(severity="urgent", owner=head_nurse)


def test_breach_is_flagged_once_and_notifies_owner_and_officers(
    urgent, head_nurse, officer, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://followup.hospital.test"
    head_nurse.email = "bob@hospital.test"
    head_nurse.save()
    second_officer = UserFactory(username="erin", roles=[Role.COMPLAINT_OFFICER], email="")
    with time_machine.travel(at(2026, 11, 23, 9, 29), tick=False):
        assert check_sla_breaches() == 0
    with time_machine.travel(at(2026, 11, 23, 9, 41), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert check_sla_breaches() == 1
        assert check_sla_breaches() == 0
    complaint = Complaint.objects.get(pk=urgent.pk)
    assert (complaint.first_response_breached, complaint.resolution_breached) == (True, False)
    text = f"{urgent.reference}: first response is late (was due 2026-11-23 09:30)."
    assert list(ComplaintEvent.objects.filter(kind="sla_breach").values_list("text", flat=True)) == [text]
    assert sorted(Notification.objects.values_list("recipient__username", "text", "link")) == sorted(
        [(u.username, text, f"/complaints/{urgent.pk}/") for u in (head_nurse, officer, second_officer)]
    )
    assert [(m.subject, m.to, m.body) for m in mail.outbox] == [
        (text, ["bob@hospital.test"], f"{text}\nhttps://followup.hospital.test/complaints/{urgent.pk}/")
    ]


def test_a_late_notice_reads_in_each_readers_language(urgent, head_nurse, client_for):
    with time_machine.travel(at(2026, 11, 23, 9, 41), tick=False):
        assert check_sla_breaches() == 1
    notice = f"{urgent.reference}: first response is late (was due 2026-11-23 09:30)."
    notice_zh = f"{urgent.reference}：首次响应已超时（截止 2026-11-23 09:30）。"
    client = client_for(head_nurse)
    pages = {
        language: [
            client.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE=language).content.decode()
            for name, args in (("complaints:notifications", []), ("complaints:detail", [urgent.pk]))
        ]
        for language in ("en", "zh-hans")
    }
    assert [(notice in page, notice_zh in page) for page in pages["en"]] == [(True, False), (True, False)]
    assert [(notice in page, notice_zh in page) for page in pages["zh-hans"]] == [(False, True), (False, True)]
    # Stored and e-mailed in the hospital's language (LANGUAGE_CODE, English here).
    assert set(Notification.objects.values_list("text", flat=True)) == {notice}


def test_resolution_breach_is_flagged_the_next_day(urgent, officer):
    services.complaint_record_contact(complaint=urgent, by=officer, text="Called back.", at=at(2026, 11, 23, 9, 10))
    with time_machine.travel(at(2026, 11, 24, 9, 1), tick=False):
        assert check_sla_breaches() == 1
    complaint = Complaint.objects.get(pk=urgent.pk)
    assert (complaint.first_response_breached, complaint.resolution_breached) == (False, True)


def test_paused_and_closed_complaints_are_not_flagged(urgent, make_complaint, officer):
    services.complaint_pause(complaint=urgent, by=officer, note="Waiting for the family to call back.")
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        make_complaint(severity="urgent", settled_on_the_spot=True, measures=["explanation"], reply="Explained.")
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        assert check_sla_breaches() == 0
    assert Notification.objects.count() == 0


def test_answering_in_time_means_no_first_response_breach(urgent, officer):
    with time_machine.travel(at(2026, 11, 23, 9, 20), tick=False):
        services.complaint_record_reply(complaint=urgent, by=officer, text="We are looking into it.")
    with time_machine.travel(at(2026, 11, 23, 12, 0), tick=False):
        assert check_sla_breaches() == 0
