"""A nurse is told what concerns her (issue 17, item 10): calls a head nurse
hands to her, and a head nurse's spot-check verdict on her call with the
comment; in the notification list of the top bar, in her language when she
reads it, leading to the call, read once opened. Nothing is e-mailed."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from calls.models import FollowUpCall, SpotCheck
from calls.services.call_work import calls_reassign
from calls.services.spot_checks import spot_check_review
from followup.models import Notification
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ward(nurse, head_nurse):
    head_nurse.display_name = "Wang Fang"
    head_nurse.save(update_fields=["display_name"])
    nurse.email = "alice@example.org"
    nurse.save(update_fields=["email"])
    return ward_of(nurse, head_nurse)


def listed(client, language: str) -> list[str]:
    response = client.get(reverse("complaints:notifications"), headers={"accept-language": language})
    return [n.shown_text for n in response.context["page"]]


def completed_call(ward, nurse) -> FollowUpCall:
    call = make_call(department=ward, nurse=nurse, status=FollowUpCall.Status.COMPLETED)
    FollowUpCall.objects.filter(pk=call.pk).update(completed_by=nurse, completed_at=NOW - dt.timedelta(days=3))
    call.refresh_from_db()
    return call


def test_calls_handed_to_her_are_told_in_the_language_she_reads(client_for, nurse, head_nurse, ward):
    colleague = UserFactory(username="erin", roles=[Role.NURSE])
    ward.staff.add(colleague)
    calls = [make_call(department=ward, nurse=colleague, due=TODAY + dt.timedelta(days=n)) for n in (2, 0, 5)]

    moved = calls_reassign(calls=FollowUpCall.objects.filter(pk__in=[c.pk for c in calls]), to=nurse, by=head_nurse)

    assert moved == 3
    client = client_for(nurse)
    assert listed(client, "en") == ["Wang Fang gave you 3 calls to make, the first due 2026-11-19."]
    assert listed(client, "zh-hans") == ["Wang Fang 交给您 3 个随访电话，最早的 2026-11-19 到期。"]
    notice = Notification.objects.get()
    assert (notice.recipient, notice.link, notice.read_at) == (nurse, "/calls/?tab=all", None)
    assert mail.outbox == []


def test_one_call_handed_over_leads_to_that_call_and_is_read_once_opened(client_for, nurse, head_nurse, ward):
    colleague = UserFactory(username="erin", roles=[Role.NURSE])
    ward.staff.add(colleague)
    call = make_call(department=ward, nurse=colleague, due=TODAY + dt.timedelta(days=1))
    calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=nurse, by=head_nurse)
    client = client_for(nurse)
    notice = Notification.objects.get()
    assert listed(client, "en") == ["Wang Fang gave you 1 call to make, due 2026-11-20."]

    badge = client.get(reverse("complaints:notification_badge")).content.decode()
    assert badge == '<span class="badge text-bg-warning">1<span class="visually-hidden"> unread</span></span>\n'
    opened = client.get(reverse("complaints:notification_open", args=[notice.pk]))

    assert opened.status_code == 302
    assert opened["Location"] == reverse("calls:call_detail", args=[call.pk])
    notice.refresh_from_db()
    assert notice.read_at == NOW
    assert client.get(reverse("complaints:notification_badge")).content.decode() == "\n"
    assert client.get(opened["Location"]).status_code == 200


def test_nobody_is_told_of_calls_she_gave_herself(nurse, head_nurse, ward):
    call = make_call(department=ward, nurse=nurse)
    calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=head_nurse, by=head_nurse)
    assert Notification.objects.count() == 0


def test_a_spot_check_verdict_reaches_the_nurse_with_the_comment(client_for, nurse, head_nurse, ward):
    call = completed_call(ward, nurse)
    check = SpotCheck.objects.create(call=call, week=TODAY - dt.timedelta(days=TODAY.weekday()), sampled_at=NOW)

    response = client_for(head_nurse).post(
        reverse("calls:spot_check_detail", args=[check.pk]),
        {"verdict": "needs_improvement", "comment": "Ask about the medicines first."},
    )

    assert response.status_code == 302
    client = client_for(nurse)
    assert listed(client, "en") == [
        "Wang Fang checked your call of 2026-11-16: Needs improvement. Comment: “Ask about the medicines first.”"
    ]
    assert listed(client, "zh-hans") == [
        "Wang Fang 抽查了您 2026-11-16 的随访：需改进。意见：“Ask about the medicines first.”"
    ]
    notice = Notification.objects.get()
    assert notice.link == reverse("calls:call_detail", args=[call.pk])
    page = client.get(reverse("complaints:notification_open", args=[notice.pk]), follow=True)
    html = page.content.decode()
    assert page.redirect_chain == [(reverse("calls:call_detail", args=[call.pk]), 302)]
    assert "Checked by Wang Fang on" in html
    assert "Ask about the medicines first." in html
    assert mail.outbox == []


def test_a_good_verdict_without_comment_is_told_too(client_for, nurse, head_nurse, ward):
    call = completed_call(ward, nurse)
    check = SpotCheck.objects.create(call=call, week=TODAY, sampled_at=NOW)

    spot_check_review(spot_check=check, by=head_nurse, verdict="good", comment="")

    assert listed(client_for(nurse), "en") == ["Wang Fang checked your call of 2026-11-16: Good."]


@pytest.mark.parametrize(
    "comment", ["<script>alert('x')</script><img src=x onerror=alert(1)>", "改进" * 5000], ids=["markup", "long"]
)
def test_a_hostile_comment_is_shown_as_text_and_shortened_in_the_list(client_for, nurse, head_nurse, ward, comment):
    call = completed_call(ward, nurse)
    check = SpotCheck.objects.create(call=call, week=TODAY, sampled_at=NOW)
    spot_check_review(spot_check=check, by=head_nurse, verdict="needs_improvement", comment=comment)
    client = client_for(nurse)

    html = client.get(reverse("complaints:notifications")).content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    [text] = listed(client, "en")
    quoted = text.split("Comment: “", 1)[1].removesuffix("”")
    assert quoted == (comment if len(comment) <= 200 else comment[:199] + "…")
    assert len(Notification.objects.get().text) <= 255
    assert "<script>alert" not in client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()


def test_she_opens_only_her_own_notifications(client_for, nurse, head_nurse, ward):
    call = make_call(department=ward, nurse=head_nurse)
    calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=nurse, by=head_nurse)
    notice = Notification.objects.get()
    other = UserFactory(username="erin", roles=[Role.NURSE])
    ward.staff.add(other)

    assert client_for(other).get(reverse("complaints:notification_open", args=[notice.pk])).status_code == 404
    assert (
        client_for(UserFactory(username="nobody"))
        .get(reverse("complaints:notification_open", args=[notice.pk]))
        .status_code
        == 403
    )
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_notification_is_stored_in_the_hospitals_language(nurse, head_nurse, ward, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    call = make_call(department=ward, nurse=head_nurse, due=TODAY)
    calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=nurse, by=head_nurse)
    assert Notification.objects.get().text == "Wang Fang 交给您 1 个随访电话，2026-11-19 到期。"
    assert timezone.now() == NOW
