"""Nothing typed on the call screen is lost (issue 17, item 2): the page saves
what the nurse types as her draft of the call; the call screen puts it back;
the draft goes when the call is completed or cancelled, and after a week
untouched. Only she sees it; only the draft service writes it."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from calls.models import CallAttempt, CallDraft, FollowUpCall
from calls.services import call_work
from calls.services.drafts import KEEP_DAYS, call_draft_save, call_drafts_purge, draft_fields_from
from calls.tasks import purge_call_drafts
from followup.forms import LONG_TEXT_MAX_CHARS
from followup.models import AuditEvent
from followup.roles import Role
from followup.schedules import PERIODIC_TASKS
from tests.calls.call_work_helpers import NOW, make_call, scripted_version, ward_of
from tests.factories import TEST_PASSWORD, DepartmentFactory, SatisfactionItemFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
JSON = {"Accept": "application/json"}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(nurse, head_nurse):
    ward = ward_of(nurse, head_nurse)
    _version, chest, note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)
    item = SatisfactionItemFactory(code="medicines_explained", name="Medicines explained clearly")
    return {"call": call, "chest": chest, "note": note, "item": item, "ward": ward}


def typed(desk, **overrides):
    """What call-draft.js sends: both forms of the page as posted, with the hidden fields."""
    call, chest, note = desk["call"], desk["chest"], desk["note"]
    data = {
        "csrfmiddlewaretoken": "ignored-by-the-test-client",
        "attempt-expected_version": str(call.version),
        "attempt-result": "answered",
        "attempt-note": "",
        "outcome-expected_version": str(call.version),
        "script_version": "1",
        f"q_{chest.pk}": "no",
        f"q_{note.pk}": "Asks about her diet",
        "outcome-answered_by": "family",
        "outcome-family_member_relation": "daughter",
        "outcome-summary": "Recovering; daughter helps with medicines.",
        "outcome-duration": "6:40",
        "draft-typed_at": str(int(NOW.timestamp() * 1000)),
    }
    data.update(overrides)
    return data


def save(client, call, data):
    return client.post(reverse("calls:call_draft", args=[call.pk]), data, headers=JSON)


def audit_rows():
    rows = AuditEvent.objects.exclude(action__in=["login", "view"]).order_by("pk")
    return list(rows.values_list("actor_name", "action", "object_type", "patient_id", "fields", "note"))


# --- saving -------------------------------------------------------------------------------


def test_a_draft_keeps_the_typed_fields_and_leaves_out_the_hidden_ones(client_for, nurse, desk):
    call, chest, note = desk["call"], desk["chest"], desk["note"]

    response = save(client_for(nurse), call, typed(desk))

    assert (response.status_code, response.json()) == (200, {"saved": True, "message": "Saved as a draft at 16:10."})
    draft = CallDraft.objects.get()
    assert (draft.call, draft.nurse, draft.call_version, draft.typed_at) == (call, nurse, 1, NOW)
    assert draft.fields == {
        "attempt-result": ["answered"],
        "attempt-note": [""],
        f"q_{chest.pk}": ["no"],
        f"q_{note.pk}": ["Asks about her diet"],
        "outcome-answered_by": ["family"],
        "outcome-family_member_relation": ["daughter"],
        "outcome-summary": ["Recovering; daughter helps with medicines."],
        "outcome-duration": ["6:40"],
    }


def test_the_draft_message_is_in_chinese_for_a_chinese_nurse(client_for, nurse, desk):
    response = client_for(nurse).post(
        reverse("calls:call_draft", args=[desk["call"].pk]), typed(desk), headers={**JSON, "accept-language": "zh-hans"}
    )
    assert response.json()["message"] == "已于 16:10 保存为草稿。"


def test_only_the_start_of_a_draft_is_audited_not_every_save(client_for, nurse, desk):
    client = client_for(nurse)
    call = desk["call"]
    for summary in ("R", "Re", "Recovering"):
        assert save(client, call, typed(desk, **{"outcome-summary": summary})).status_code == 200

    draft = CallDraft.objects.get()
    assert draft.fields["outcome-summary"] == ["Recovering"]
    patient = call.discharge.patient_id
    assert audit_rows() == [("alice", "create", "draft", patient, "fields", f"call {call.pk}")]
    # Neither a page-level row per autosave: the trail would fill with them.
    assert AuditEvent.objects.filter(url_name="calls:call_draft").exclude(object_type="draft").count() == 0
    # The values typed never reach the trail.
    assert not AuditEvent.objects.filter(note__contains="Recovering").exists()


def test_a_multiple_choice_keeps_every_ticked_answer_and_unknown_names_are_dropped(client_for, nurse, desk):
    data = typed(desk)
    data["q_999"] = ["walks", "rests"]
    data["outcome-expected_version"] = "1"
    data["is_staff"] = "true"
    data["attempt-"] = "x"
    data["Q_1"] = "x"
    response = save(client_for(nurse), desk["call"], data)
    assert response.status_code == 200
    fields = CallDraft.objects.get().fields
    assert fields["q_999"] == ["walks", "rests"]
    assert {"is_staff", "attempt-", "Q_1", "script_version", "csrfmiddlewaretoken"} & set(fields) == set()


def test_hostile_text_is_kept_as_typed_and_shown_escaped(client_for, nurse, desk):
    client = client_for(nurse)
    call = desk["call"]
    assert save(client, call, typed(desk, **{"outcome-summary": HOSTILE})).status_code == 200
    assert CallDraft.objects.get().fields["outcome-summary"] == [HOSTILE]

    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_text_longer_than_a_form_takes_is_refused_with_its_length(client_for, nurse, desk):
    response = save(
        client_for(nurse), desk["call"], typed(desk, **{"outcome-summary": "x" * (LONG_TEXT_MAX_CHARS + 1)})
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "too_long",
        "message": "A text of this draft is 20,001 characters long; the limit is 20,000. Shorten it.",
    }
    assert CallDraft.objects.count() == 0


def test_a_text_of_the_longest_allowed_length_is_kept(client_for, nurse, desk):
    summary = "长" * LONG_TEXT_MAX_CHARS
    assert save(client_for(nurse), desk["call"], typed(desk, **{"outcome-summary": summary})).status_code == 200
    assert CallDraft.objects.get().fields["outcome-summary"] == [summary]


def test_too_many_fields_or_values_are_refused(client_for, nurse, desk):
    client = client_for(nurse)
    many = typed(desk, **{f"q_{n}": "yes" for n in range(1000, 1201)})
    assert save(client, desk["call"], many).json()["error"] == "too_large"
    crowded = typed(desk, **{"q_5": [str(n) for n in range(51)]})
    assert save(client, desk["call"], crowded).json()["error"] == "too_many_values"
    assert CallDraft.objects.count() == 0


def test_a_nul_character_is_refused_before_anything_is_saved(client_for, nurse, desk):
    response = save(client_for(nurse), desk["call"], typed(desk, **{"outcome-summary": "a\x00b"}))
    assert response.status_code == 400
    assert CallDraft.objects.count() == 0
    with pytest.raises(Exception, match="cannot be saved"):
        draft_fields_from({"outcome-summary": ["a\x00b"]})


@pytest.mark.parametrize("value", ["", "abc", "-5", "99999999999999999999", "1e3"])
def test_an_unbelievable_browser_clock_gives_way_to_the_servers(client_for, nurse, desk, value):
    assert save(client_for(nurse), desk["call"], typed(desk, **{"draft-typed_at": value})).status_code == 200
    assert CallDraft.objects.get().typed_at == NOW


def test_a_browser_clock_two_days_off_gives_way_to_the_servers(client_for, nurse, desk):
    ahead = str(int((NOW + dt.timedelta(days=2)).timestamp() * 1000))
    save(client_for(nurse), desk["call"], typed(desk, **{"draft-typed_at": ahead}))
    assert CallDraft.objects.get().typed_at == NOW


def test_a_version_from_the_future_is_not_kept(client_for, nurse, desk):
    save(client_for(nurse), desk["call"], typed(desk, **{"outcome-expected_version": "77"}))
    assert CallDraft.objects.get().call_version == desk["call"].version


def test_a_closed_call_takes_no_draft(client_for, nurse, desk):
    call = desk["call"]
    FollowUpCall.objects.filter(pk=call.pk).update(status=FollowUpCall.Status.COMPLETED)
    response = save(client_for(nurse), call, typed(desk))
    assert response.status_code == 409
    assert response.json() == {
        "error": "not_open",
        "message": "This call is already completed; nothing more can be recorded on it.",
    }
    assert CallDraft.objects.count() == 0


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["officer", "admin_user", "no_role_user"])
def test_roles_without_calls_are_refused(request, client_for, desk, who):
    response = save(client_for(request.getfixturevalue(who)), desk["call"], typed(desk))
    assert response.status_code == 403
    assert CallDraft.objects.count() == 0


def test_a_nurse_of_another_department_is_told_the_call_does_not_exist(client_for, desk):
    stranger = UserFactory(username="olga", roles=[Role.NURSE])
    DepartmentFactory(code="ONCO").staff.add(stranger)
    response = save(client_for(stranger), desk["call"], typed(desk))
    assert response.status_code == 404
    assert CallDraft.objects.count() == 0
    assert AuditEvent.objects.filter(action="refused", actor=stranger, url_name="calls:call_draft").count() == 1


def test_a_get_is_not_allowed(client_for, nurse, desk):
    assert client_for(nurse).get(reverse("calls:call_draft", args=[desk["call"].pk])).status_code == 405


def test_a_logged_out_autosave_is_told_so_in_json(client, desk):
    response = save(client, desk["call"], typed(desk))
    assert (response.status_code, response.json()["error"]) == (401, "logged_out")
    # A request that does not ask for JSON gets it anyway, and leaves no "you were logged
    # out" message behind for the log-in page.
    plain = client.post(reverse("calls:call_draft", args=[desk["call"].pk]), typed(desk))
    assert (plain.status_code, plain.json()["error"]) == (401, "logged_out")
    assert "logged out" not in client.get(reverse("login")).content.decode()


# --- putting it back ------------------------------------------------------------------------


def test_the_call_screen_puts_her_draft_back(client_for, nurse, desk):
    client = client_for(nurse)
    call, chest, note = desk["call"], desk["chest"], desk["note"]
    save(client, call, typed(desk))

    response = client.get(reverse("calls:call_detail", args=[call.pk]))
    html = response.content.decode()
    assert response.context["answers_form"][f"q_{chest.pk}"].value() == "no"
    assert response.context["answers_form"][f"q_{note.pk}"].value() == "Asks about her diet"
    complete = response.context["complete_form"]
    assert (complete["answered_by"].value(), complete["summary"].value(), complete["duration"].value()) == (
        "family",
        "Recovering; daughter helps with medicines.",
        "6:40",
    )
    assert response.context["attempt_form"]["result"].value() == "answered"
    checked = re.findall(r'<input type="radio"[^>]* name="([^"]+)" value="([^"]+)"[^>]* checked>', html)
    assert checked == [("attempt-dialled", "patient"), (f"q_{chest.pk}", "no"), ("outcome-answered_by", "family")]
    assert (
        "What you typed on this call (saved at 2026-11-19 16:10) is back in the form. "
        "It stays a draft, seen only by you, until you complete the call." in html
    )
    assert 'data-draft-typed-at="' + str(int(NOW.timestamp() * 1000)) + '"' in html
    # Nothing shows as an error: she has not sent anything yet.
    assert "Please answer this question." not in html


def test_a_refused_form_comes_back_as_posted_and_the_other_form_from_her_draft(client_for, nurse, desk):
    client = client_for(nurse)
    call = desk["call"]
    save(client, call, typed(desk, **{"attempt-note": "Daughter's mobile"}))

    response = client.post(
        reverse("calls:call_complete", args=[call.pk]),
        {"outcome-expected_version": "1", "outcome-summary": "Posted summary", "outcome-duration": ""},
    )

    assert response.status_code == 400
    assert response.context["complete_form"]["summary"].value() == "Posted summary"
    assert response.context["attempt_form"]["note"].value() == "Daughter's mobile"
    html = response.content.decode()
    assert "What you typed on this call" not in html
    assert html.count("data-draft-bound") == 1


def test_a_form_accepted_tells_the_next_page_to_drop_the_browsers_copy(client_for, nurse, desk):
    client = client_for(nurse)
    call = desk["call"]
    busy = client.post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": call.version, "attempt-result": "busy"},
        follow=True,
    )
    # The call is still open: what the browser kept is put back on the call screen, not dropped.
    assert 'data-typing-sent=""' in busy.content.decode()
    call.refresh_from_db()
    done = client.post(
        reverse("calls:call_complete", args=[call.pk]),
        {
            f"q_{desk['chest'].pk}": "no",
            "outcome-expected_version": call.version,
            "outcome-answered_by": "patient",
            "outcome-satisfaction": "satisfied",
            "outcome-summary": "fine",
            "outcome-duration": "5",
        },
        follow=True,
    )
    assert f'data-typing-sent="{nurse.pk}:{call.pk}"' in done.content.decode()
    # Said once: the page after it has nothing to drop.
    assert 'data-typing-sent=""' in client.get(reverse("calls:worklist")).content.decode()


def test_her_own_dial_is_no_conflict_for_her_typing(client_for, nurse, desk):
    client = client_for(nurse)
    call = desk["call"]
    call_work.call_record_attempt(call=call, by=nurse, result="busy", expected_version=call.version)
    # A save sent as the page left, arriving after the dial: it names the version before it.
    save(client, call, typed(desk, **{"outcome-expected_version": "1"}))
    assert CallDraft.objects.get().call_version == 2


def test_nobody_else_sees_her_draft_not_even_her_head_nurse(client_for, nurse, head_nurse, desk):
    save(client_for(nurse), desk["call"], typed(desk))
    html = client_for(head_nurse).get(reverse("calls:call_detail", args=[desk["call"].pk])).content.decode()
    assert "daughter helps" not in html
    assert "What you typed on this call" not in html


def test_a_change_saved_by_someone_else_meanwhile_still_shows_as_a_conflict(client_for, nurse, head_nurse, desk):
    client = client_for(nurse)
    call, chest = desk["call"], desk["chest"]
    save(client, call, typed(desk))
    call_work.call_record_attempt(call=call, by=head_nurse, result="busy", expected_version=call.version)

    page = client.get(reverse("calls:call_detail", args=[call.pk]))
    assert page.context["complete_form"]["expected_version"].value() == 1

    response = client.post(
        reverse("calls:call_complete", args=[call.pk]),
        {
            f"q_{chest.pk}": "no",
            "outcome-expected_version": "1",
            "outcome-answered_by": "family",
            "outcome-family_member_relation": "daughter",
            "outcome-satisfaction": "satisfied",
            "outcome-summary": "Recovering",
            "outcome-duration": "6:40",
        },
    )
    assert response.status_code == 409


# --- the end of a draft ---------------------------------------------------------------------


def complete(call, chest, nurse):
    call.refresh_from_db()
    call_work.call_complete(
        call=call,
        by=nurse,
        expected_version=call.version,
        answered_by="patient",
        answers={chest.pk: "no"},
        satisfaction="satisfied",
        item_scores={},
        summary="fine",
        duration_seconds=300,
    )


def test_completing_the_call_discards_every_draft_of_it_audited(client_for, nurse, head_nurse, desk):
    call = desk["call"]
    save(client_for(nurse), call, typed(desk))
    save(client_for(head_nurse), call, typed(desk))
    complete(call, desk["chest"], nurse)

    assert CallDraft.objects.count() == 0
    discarded = AuditEvent.objects.filter(object_type="draft", note="discarded: completed")
    assert list(discarded.values_list("actor_name", "patient_id")) == [("alice", call.discharge.patient_id)] * 2


def test_recording_the_death_discards_the_drafts_of_every_cancelled_call(client_for, nurse, desk):
    call = desk["call"]
    later = make_call(department=desk["ward"], nurse=nurse, discharge=call.discharge, offset=30)
    client = client_for(nurse)
    save(client, call, typed(desk))
    save(client, later, typed(desk, **{"outcome-expected_version": str(later.version)}))

    call_work.call_record_death(call=call, by=nurse, died_on=NOW.date(), expected_version=call.version)

    assert CallDraft.objects.count() == 0
    notes = AuditEvent.objects.filter(object_type="draft", action="change").values_list("note", flat=True)
    assert sorted(notes) == ["discarded: cancelled: deceased"] * 2


def test_an_unanswered_dial_forgets_the_dial_form_but_keeps_the_answers(client_for, nurse, desk):
    call = desk["call"]
    client = client_for(nurse)
    save(client, call, typed(desk, **{"attempt-result": "busy", "attempt-note": "Line busy"}))

    response = client.post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": call.version, "attempt-result": "busy", "attempt-note": "Line busy"},
    )
    assert response.status_code == 302

    draft = CallDraft.objects.get()
    call.refresh_from_db()
    assert draft.call_version == call.version == 2
    assert [name for name in draft.fields if name.startswith("attempt-")] == []
    assert draft.fields["outcome-summary"] == ["Recovering; daughter helps with medicines."]


def test_the_last_unanswered_dial_discards_the_draft(client_for, nurse, desk):
    call = desk["call"]
    # Two unanswered dials on two earlier days: the third is the last the step allows.
    for days in (2, 1):
        CallAttempt.objects.create(call=call, nurse=nurse, started_at=NOW - dt.timedelta(days=days), result="no_answer")
    FollowUpCall.objects.filter(pk=call.pk).update(attempt_count=2)
    call.refresh_from_db()
    save(client_for(nurse), call, typed(desk))
    call_work.call_record_attempt(call=call, by=nurse, result="no_answer", expected_version=call.version)
    assert call.status == "unreachable"
    assert CallDraft.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="draft", note="discarded: unreachable").count() == 1


def test_the_nightly_purge_removes_old_drafts_and_those_of_closed_calls(nurse, desk):
    call = desk["call"]
    closed = make_call(department=desk["ward"], nurse=nurse, offset=30)
    fresh = make_call(department=desk["ward"], nurse=nurse, offset=14)
    with time_machine.travel(NOW - dt.timedelta(days=KEEP_DAYS, minutes=1), tick=False):
        call_draft_save(call=call, by=nurse, fields={"outcome-summary": ["old"]})
    call_draft_save(call=closed, by=nurse, fields={"outcome-summary": ["closed"]})
    call_draft_save(call=fresh, by=nurse, fields={"outcome-summary": ["today"]})
    FollowUpCall.objects.filter(pk=closed.pk).update(status=FollowUpCall.Status.COMPLETED)

    assert purge_call_drafts() == 2
    assert list(CallDraft.objects.values_list("fields", flat=True)) == [{"outcome-summary": ["today"]}]
    purged = AuditEvent.objects.filter(object_type="draft", action="change").order_by("note")
    assert list(purged.values_list("actor_name", "note")) == [
        ("task:calls.purge_call_drafts", "purged: call closed"),
        ("task:calls.purge_call_drafts", "purged: untouched for 7 days"),
    ]
    assert call_drafts_purge() == 0  # twice: nothing more
    assert PERIODIC_TASKS["Purge old call drafts"][0] == "calls.purge_call_drafts"


# --- the session ended before she sent the form ---------------------------------------------


@pytest.mark.parametrize(
    ("language", "explanation"),
    [
        (
            "en",
            "You were logged out before this was sent (a session ends after 30 minutes without activity). "
            "Nothing is lost: log in again and you will be back on the page with what you typed.",
        ),
        (
            "zh-hans",
            "提交前您已被登出（30 分钟无操作会话即结束）。内容没有丢失：重新登录后将回到该页面，您输入的内容仍在。",
        ),
    ],
)
def test_a_form_sent_after_the_session_ended_comes_back_after_log_in(client, nurse, desk, language, explanation):
    call, chest = desk["call"], desk["chest"]
    client.force_login(nurse)
    save(client, call, typed(desk))
    client.logout()  # the session ended
    headers = {"accept-language": language}

    response = client.post(
        reverse("calls:call_complete", args=[call.pk]),
        typed(desk, **{"outcome-satisfaction": "satisfied"}),
        headers=headers,
    )
    detail = reverse("calls:call_detail", args=[call.pk])
    assert (response.status_code, response["Location"]) == (
        302,
        f"{reverse('login')}?next={detail}",
    )
    login_page = client.get(response["Location"], headers=headers).content.decode()
    assert explanation in login_page

    back = client.post(response["Location"], {"username": nurse.username, "password": TEST_PASSWORD}, headers=headers)
    assert (back.status_code, back["Location"]) == (302, detail)
    page = client.get(detail, headers=headers)
    assert page.status_code == 200
    assert page.context["answers_form"][f"q_{chest.pk}"].value() == "no"
    assert page.context["complete_form"]["summary"].value() == "Recovering; daughter helps with medicines."
    assert FollowUpCall.objects.get(pk=call.pk).status == "scheduled"


def test_a_form_without_a_page_to_return_to_goes_home_with_its_own_explanation(client):
    response = client.post(reverse("password_change"), {"old_password": "x"})
    assert response["Location"] == f"{reverse('login')}?next=/"
    page = client.get(response["Location"]).content.decode()
    assert (
        "You were logged out before this was sent (a session ends after 30 minutes without activity), "
        "so it was not saved. Log in again to carry on." in page
    )


@pytest.mark.parametrize(
    ("next_page", "expected"),
    [
        (
            "/calls/",
            "You were logged out after 30 minutes without activity. Log in again to go back to the page you were on.",
        ),
        (
            "call",
            "You were logged out after 30 minutes without activity. Log in again to go back to the page you were on. "
            "What you had typed there is kept and will be back in the form.",
        ),
    ],
)
def test_the_log_in_page_says_why_after_the_page_logged_her_out(client, desk, next_page, expected):
    target = reverse("calls:call_detail", args=[desk["call"].pk]) if next_page == "call" else next_page
    html = client.get(reverse("login"), {"next": target, "reason": "inactive"}).content.decode()
    assert expected in html
    assert "without activity" not in client.get(reverse("login"), {"next": target}).content.decode()
