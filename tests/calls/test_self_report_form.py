"""The patient's questionnaire (issue 22, docs/self-report.md): opened
without a log-in from the link, it shows only the ward and the family name
with title; its answers complete the call as a nurse's would (channel,
alert, call back); "please call me" and "stop these messages" always work;
a wrong, expired or used link reveals nothing; tokens stay out of the trail
and the logs; every address and link is rate-limited."""

import datetime as dt
import json
import logging
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from calls.models import CallAnswer, ClinicalAlert, FollowUpCall, SelfReportLink, SelfReportOptOut
from calls.self_report_tokens import new_token
from followup.models import AuditEvent
from tests.factories import SatisfactionItemFactory

from .self_report_helpers import NOW, issue_link, scripted_self_report_call

pytestmark = pytest.mark.django_db
FORM = "/r/"


@pytest.fixture(autouse=True)
def _now_and_empty_cache():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def world(nurse):
    call, chest, note = scripted_self_report_call(nurse=nurse, patient__name="王芳", patient__mrn="ZY2026001")
    token = issue_link(call)
    return {"call": call, "chest": chest, "note": note, "token": token, "client": Client()}


def opened(world, language: str | None = None) -> Client:
    client = world["client"]
    if language:
        SelfReportLink.objects.filter(call=world["call"]).update(language=language)
    response = client.get(f"/r/{world['token']}")
    assert (response.status_code, response["Location"]) == (302, FORM)
    return client


def answers(world, **extra) -> dict:
    return {
        "action": "submit",
        f"q_{world['chest'].pk}": "no",
        f"q_{world['note'].pk}": "",
        "satisfaction": "satisfied",
        "answered_by": "patient",
        **extra,
    }


def test_the_link_opens_the_form_with_only_the_ward_and_the_family_name(world):
    client = opened(world)

    html = client.get(FORM).content.decode()

    assert "王女士，您好" in html
    assert "Ward CARD" in html
    assert "Any chest pain since discharge?" in html
    for private in ("王芳", "ZY2026001", "13812345678", "5678", world["token"]):
        assert private not in html
    assert "隐私" in html and "退订这些短信" in html and "请给我打电话" in html


def test_in_english_the_greeting_is_ms_and_the_family_name(world):
    client = opened(world, language="en")

    response = client.get(FORM)

    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert "Hello, Ms 王" in html
    assert "Please call me" in html


def test_the_patient_facing_wording_replaces_the_nurses(world):
    type(world["chest"]).objects.filter(pk=world["chest"].pk).update(patient_text="Have you had any chest pain?")
    client = opened(world)

    html = client.get(FORM).content.decode()

    assert "Have you had any chest pain?" in html
    assert "Any chest pain since discharge?" not in html


def test_the_patient_can_switch_the_forms_language(world):
    client = opened(world)

    client.post(FORM, {"action": "language", "language": "en"})

    assert "Send my answers" in client.get(FORM).content.decode()
    assert SelfReportLink.objects.get().language == "en"


def test_answers_complete_the_call_as_self_reported_with_satisfaction_and_item_scores(world):
    item = SatisfactionItemFactory(code="attitude", name="Nursing attitude")
    client = opened(world)

    response = client.post(FORM, answers(world, **{f"item_{item.pk}": "9"}))

    assert (response.status_code, response["Location"]) == (302, FORM)
    call = FollowUpCall.objects.get(pk=world["call"].pk)
    assert (call.status, call.channel, call.answered_by, call.satisfaction) == (
        "completed",
        "self_report",
        "patient",
        "satisfied",
    )
    assert call.completed_by is None and call.attempts.count() == 0
    assert list(CallAnswer.objects.filter(call=call).values_list("value", "is_red_flag")) == [("no", False)]
    assert list(call.item_scores.values_list("item__code", "score")) == [("attitude", 9)]
    assert not ClinicalAlert.objects.exists()
    assert FollowUpCall.objects.count() == 1  # no call back needed
    assert "谢谢" in client.get(FORM).content.decode()


def test_a_red_flag_raises_the_alert_and_puts_a_call_back_at_the_top_of_the_worklist(world, nurse, client_for):
    client = opened(world)

    client.post(FORM, answers(world, **{f"q_{world['chest'].pk}": "yes", "answered_by": "family"}))

    alert = ClinicalAlert.objects.get()
    assert alert.reason == "Any chest pain since discharge?: Yes"
    callback = FollowUpCall.objects.exclude(pk=world["call"].pk).get()
    assert (callback.status, callback.due_date, callback.booked_from_id, callback.assigned_to) == (
        "scheduled",
        NOW.date(),
        world["call"].pk,
        nurse,
    )
    assert FollowUpCall.objects.get(pk=world["call"].pk).answered_by == "family"
    worklist = client_for(nurse).get(reverse("calls:worklist")).content.decode()
    assert worklist.count("Red flag") >= 1
    assert worklist.index(f"/calls/{callback.pk}/") < worklist.index("</tbody>")


def test_please_call_me_puts_the_unanswered_call_on_top_with_the_note(world, nurse, client_for):
    hostile = "<script>alert(1)</script> 请下午打" + "很长" * 50
    other = scripted_self_report_call(nurse=nurse, patient__name="Li Lei", due=NOW.date())[0]
    FollowUpCall.objects.filter(pk=other.pk).update(due_date=NOW.date() - dt.timedelta(days=1))
    client = opened(world)

    response = client.post(FORM, {"action": "call_me", "note": hostile})

    assert response.status_code == 302
    link = SelfReportLink.objects.get(call=world["call"])
    assert link.call_me_note == hostile
    assert FollowUpCall.objects.get(pk=world["call"].pk).status == "scheduled"
    html = client_for(nurse).get(reverse("calls:worklist")).content.decode()
    assert html.index(f"/calls/{world['call'].pk}/") < html.index(f"/calls/{other.pk}/")
    assert "Patient asked for a call" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 请下午打" in html and "<script>alert(1)" not in html
    assert "护士会尽快给您打电话" in client.get(FORM).content.decode()


def test_after_asking_for_a_call_the_answers_still_complete_the_call_and_book_the_call_back(world):
    client = opened(world)
    client.post(FORM, {"action": "call_me", "note": ""})

    client.post(FORM, answers(world))

    assert FollowUpCall.objects.get(pk=world["call"].pk).status == "completed"
    link = SelfReportLink.objects.get(call=world["call"])
    assert link.callback_call.status == "scheduled"


def test_stop_these_messages_opts_the_patient_out(world):
    client = opened(world)

    response = client.post(FORM, {"action": "stop"})

    assert response.status_code == 302
    assert SelfReportOptOut.objects.get(patient=world["call"].discharge.patient).via == "link"
    assert "我们将不再给您发送短信" in client.get(FORM).content.decode()


def test_partial_answers_are_kept_on_the_server_and_shown_again(world):
    client = opened(world)
    client.post(FORM, {"action": "autosave", f"q_{world['chest'].pk}": "yes", f"q_{world['note'].pk}": "有点累"})

    fresh = Client()
    fresh.get(f"/r/{world['token']}")
    html = fresh.get(FORM).content.decode()

    assert SelfReportLink.objects.get().draft == {str(world["chest"].pk): "yes", str(world["note"].pk): "有点累"}
    assert checked_values(html, f"q_{world['chest'].pk}") == ["yes"]
    assert "有点累" in html


def checked_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)"[^>]*checked', html)


def test_a_missing_answer_shows_in_the_error_summary_and_keeps_the_rest(world):
    client = opened(world)

    response = client.post(FORM, {"action": "submit", f"q_{world['note'].pk}": "<b>hi</b>" + "长" * 20_001})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "Any chest pain since discharge?：请回答这个问题。" in html
    assert "<b>hi</b>" not in html
    assert FollowUpCall.objects.get(pk=world["call"].pk).status == "scheduled"


def test_a_nul_character_gets_the_readable_400_page(world):
    client = opened(world)

    response = client.post(FORM, {"action": "call_me", "note": "a\x00b"})

    assert response.status_code == 400
    assert not SelfReportLink.objects.filter(call_me_at__isnull=False).exists()


# --- what a wrong link sees -----------------------------------------------------------


def refusal(client: Client, url: str):
    response = client.get(url)
    return response.status_code, response.content.decode()


def test_wrong_expired_used_and_closed_links_all_get_the_same_page(world):
    gone_status, gone_page = refusal(Client(), f"/r/{new_token()}")  # well-formed, never issued
    assert gone_status == 404
    token = world["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    cases = [f"/r/{tampered}", "/r/short", "/r/" + "x" * 300]
    for url in cases:
        assert refusal(Client(), url) == (404, gone_page), url
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert refusal(Client(), f"/r/{token}") == (404, gone_page)
    FollowUpCall.objects.filter(pk=world["call"].pk).update(status="cancelled")
    assert refusal(Client(), f"/r/{token}") == (404, gone_page)
    assert refusal(Client(), FORM) == (404, gone_page)  # no link in the session


def test_a_used_link_does_not_open_again(world):
    client = opened(world)
    client.post(FORM, answers(world))

    assert Client().get(f"/r/{world['token']}").status_code == 404


def test_the_nurses_open_call_wins_over_a_late_form(world, nurse):
    client = opened(world)
    FollowUpCall.objects.filter(pk=world["call"].pk).update(status="in_progress")

    response = client.post(FORM, answers(world))

    assert response.status_code == 404
    assert not CallAnswer.objects.exists()


def test_requests_are_limited_per_address(world, settings):
    settings.SELF_REPORT_RATE_PER_IP = 3
    client = Client()
    statuses = [client.get(f"/r/{new_token()}").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_requests_are_limited_per_link(world, settings):
    settings.SELF_REPORT_RATE_PER_LINK = 2
    statuses = [Client(REMOTE_ADDR=f"10.0.0.{n}").get(f"/r/{world['token']}").status_code for n in range(3)]
    assert statuses == [302, 302, 429]


# --- the trail and the logs ---------------------------------------------------------------


def test_every_change_is_audited_as_the_patient_without_the_token(world):
    client = opened(world)
    client.get(FORM)
    client.post(FORM, answers(world, **{f"q_{world['chest'].pk}": "yes"}))

    rows = AuditEvent.objects.filter(actor_name="patient:self-report").order_by("pk")
    assert list(rows.values_list("source", "object_type", "note")) == [
        ("patient", "self_report", "opened"),
        ("patient", "self_report", "answers kept"),
        ("patient", "call", "self-reported"),
        ("patient", "alert", ""),
        ("patient", "call", "callback after self-report"),
    ]
    assert set(rows.values_list("patient_id", flat=True)) == {world["call"].discharge.patient_id}
    assert set(rows.values_list("path", flat=True)) == {FORM}
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert world["token"] not in trail


def test_the_token_never_reaches_the_request_log(world, caplog):
    FollowUpCall.objects.filter(pk=world["call"].pk).update(status="cancelled")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get(f"/r/{world['token']}")

    assert caplog.records, "Django logs a 404"
    logged = "\n".join(handler.format(record) for record in caplog.records for handler in logging.getLogger().handlers)
    assert world["token"] not in logged
    assert "/r/***" in logged


def test_hostile_wording_and_names_are_shown_as_text(nurse):
    call, chest, _note = scripted_self_report_call(nurse=nurse, patient__name="<img src=x onerror=alert(1)>")
    type(chest).objects.filter(pk=chest.pk).update(patient_text="<script>alert('q')</script>" + "问" * 5000)
    client = Client()
    client.get(f"/r/{issue_link(call)}")

    html = client.get(FORM).content.decode()

    assert "<script>alert('q')" not in html and "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img女士，您好" in html
