"""Callbacks and attempts on the nurse's pages (issue 17, item 4): the
attempt form records the number dialled and "asked to call back" with its
time and who asked; refusals read in the error summary; the worklist and the
call screen show the planned day and time. The service rules are in
test_callbacks_and_attempts.py."""

import datetime as dt
import html as html_lib
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from calls.models import CallAttempt, ClinicalAlert, FollowUpCall
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import UserFactory
from tests.followup.test_error_summary import summary_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

WORKLIST = reverse("calls:worklist")
SHANGHAI = NOW.tzinfo
PLANNED_CELL = re.compile(r'<td class="text-nowrap worklist-planned">(.*?)</td>', re.S)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):  # Thursday 19 November 2026, 16:10
        yield


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def attempt_url(call) -> str:
    return reverse("calls:call_attempt", args=[call.pk])


def callback_post(**fields) -> dict:
    data = {
        "attempt-expected_version": "1",
        "attempt-dialled": "patient",
        "attempt-result": "callback",
        "attempt-callback_on": TODAY.isoformat(),
        "attempt-callback_time": "18:30",
        "attempt-callback_asked_by": "family",
        "attempt-note": "",
    }
    data.update({f"attempt-{name}": value for name, value in fields.items()})
    return data


def items_of(html: str) -> list[tuple[str, str]]:
    """The error summary's (field link, message) items, as read on screen."""
    return [(target, html_lib.unescape(message)) for target, message in summary_of(html)[2]]


def text(fragment: str) -> str:
    return html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def worklist_rows(client, **params) -> list[tuple[str, str, str]]:
    """(patient, planned day and time, badges) of each row, as shown."""
    html = client.get(WORKLIST, params).content.decode()
    rows = []
    for row in re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", html, re.S):
        name = text(re.search(r'<a[^>]* href="/calls/\d+/">(.*?)</a>', row).group(1))
        badges = " ".join(text(b) for b in re.findall(r'<span class="badge[^"]*">(.*?)</span>', row))
        rows.append((name, text(PLANNED_CELL.search(row).group(1)), badges))
    return rows


# --- the worklist -------------------------------------------------------------------------


def test_worklist_shows_the_planned_day_and_time_not_the_due_date(client_for, nurse):
    ward = ward_of(nurse)
    # Due on Tuesday, planned by the queue on Thursday at 16:00 (the ward calls on Thursdays).
    make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=2),
        scheduled_for=at(TODAY, 16),
        patient__name="Zhou Min",
    )
    client = client_for(nurse)

    assert worklist_rows(client) == [("Zhou Min", "Thu 2026-11-19 16:00", "Overdue")]
    with translation.override("en"):
        chinese = client.get(WORKLIST, headers={"accept-language": "zh-hans"}).content.decode()
    assert text(PLANNED_CELL.search(chinese).group(1)) == "星期四 2026-11-19 16:00"


def test_a_call_planned_for_thursday_is_not_on_tuesdays_today_tab(client_for, nurse):
    ward = ward_of(nurse)
    make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=2),
        scheduled_for=at(TODAY, 16),
        patient__name="Zhou Min",
    )
    client = client_for(nurse)

    with time_machine.travel(at(TODAY - dt.timedelta(days=2), 9), tick=False):
        assert worklist_rows(client) == []
        assert worklist_rows(client, tab="week") == [("Zhou Min", "Thu 2026-11-19 16:00", "")]


def test_due_callbacks_come_right_after_red_flags_at_their_time(client_for, nurse):
    ward = ward_of(nurse)
    at_16 = {"scheduled_for": at(TODAY, 16)}

    def callback(name, hour, minute=0):
        return make_call(
            department=ward,
            nurse=nurse,
            patient__name=name,
            callback_at=at(TODAY, hour, minute),
            next_attempt_on=TODAY,
            **at_16,
        )

    flagged = make_call(department=ward, nurse=nurse, patient__name="Flagged", **at_16)
    ClinicalAlert.objects.create(call=flagged, raised_at=NOW, due_at=NOW, reason="chest pain")
    make_call(department=ward, nurse=nurse, due=TODAY - dt.timedelta(days=3), patient__name="Overdue")
    make_call(department=ward, nurse=nurse, patient__name="Planned 16:00", **at_16)
    callback("Callback 15:30", 15, 30)
    callback("Callback 14:00", 14)
    callback("Callback 17:45", 17, 45)  # not yet due: in the day's order, at its time

    assert worklist_rows(client_for(nurse)) == [
        ("Flagged", "Thu 2026-11-19 16:00", "Red flag"),
        ("Callback 14:00", "Thu 2026-11-19 14:00", "Callback due"),
        ("Callback 15:30", "Thu 2026-11-19 15:30", "Callback due"),
        ("Overdue", "Mon 2026-11-16", "Overdue"),
        ("Planned 16:00", "Thu 2026-11-19 16:00", ""),
        ("Callback 17:45", "Thu 2026-11-19 17:45", "Callback"),
    ]


@pytest.mark.parametrize("rows", [1, 3])
def test_worklist_queries_stay_the_same_with_callbacks(rows, client_for, nurse, django_assert_num_queries):
    ward = ward_of(nurse)
    for n in range(rows):
        make_call(department=ward, nurse=nurse, callback_at=at(TODAY, 15, n), next_attempt_on=TODAY)
    client = client_for(nurse)

    # as test_worklist's head nurse, less her list of nurses to reassign to
    with django_assert_num_queries(11):
        response = client.get(WORKLIST)

    assert len(response.context["page"].object_list) == rows


# --- recording a callback -----------------------------------------------------------------


def test_nurse_records_a_callback_and_it_is_on_her_worklist_at_that_time(client_for, nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse, patient__name="Zhou Min", scheduled_for=at(TODAY, 16))
    make_call(department=ward, nurse=nurse, patient__name="Wang Li", scheduled_for=at(TODAY, 16, 5))
    client = client_for(nurse)

    response = client.post(attempt_url(call), callback_post(callback_time="16:30"), follow=True)

    assert response.redirect_chain == [(WORKLIST, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Callback agreed for 2026-11-19 at 16:30, asked by: family member. The call is on the worklist for then."
    ]
    assert worklist_rows(client) == [
        ("Wang Li", "Thu 2026-11-19 16:05", ""),
        ("Zhou Min", "Thu 2026-11-19 16:30", "Callback"),
    ]
    with time_machine.travel(at(TODAY, 16, 30), tick=False):
        assert worklist_rows(client) == [
            ("Zhou Min", "Thu 2026-11-19 16:30", "Callback due"),
            ("Wang Li", "Thu 2026-11-19 16:05", ""),
        ]
    attempt = CallAttempt.objects.get(call=call)
    assert (attempt.result, attempt.callback_at, attempt.callback_asked_by, attempt.dialled_number) == (
        "callback",
        at(TODAY, 16, 30),
        "family",
        call.discharge.patient.phone,
    )


def test_a_callback_for_tomorrow_leaves_todays_tab(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse, patient__name="Zhou Min")
    client = client_for(nurse)

    client.post(attempt_url(call), callback_post(callback_on=(TODAY + dt.timedelta(days=1)).isoformat()))

    assert worklist_rows(client) == []
    assert worklist_rows(client, tab="week") == [("Zhou Min", "Fri 2026-11-20 18:30", "Callback")]


def test_the_call_screen_shows_the_planned_day_the_due_date_and_the_callback(client_for, nurse):
    call = make_call(
        department=ward_of(nurse),
        nurse=nurse,
        due=TODAY - dt.timedelta(days=2),
        scheduled_for=at(TODAY, 16),
        patient__family_phone="+8613900001111",
    )
    client = client_for(nurse)
    client.post(attempt_url(call), callback_post(dialled="family", callback_time="19:15", note="Daughter at work"))

    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    header = text(re.search(r'<span class="call-planned">(.*?)</span>', html, re.S).group(1))
    assert header == "day 7 · planned Thu 2026-11-19 19:15 · due 2026-11-17"
    assert text(re.search(r'<p class="alert alert-info call-callback"[^>]*>(.*?)</p>', html, re.S).group(1)) == (
        "Callback agreed for Thu 2026-11-19 at 19:15, asked by: Family member."
    )
    attempts = [
        text(li)
        for li in re.findall(r"<li>(.*?)</li>", re.search(r"call-attempts\">(.*?)</ol>", html, re.S).group(1), re.S)
    ]
    assert attempts == [
        f"2026-11-19 16:10 · Asked to call back (for Thu 2026-11-19 19:15, asked by: Family member) · "
        f"Family contact's phone +8613900001111 · {nurse} · Daughter at work"
    ]


def test_the_call_screen_states_the_attempt_policy_and_warns_outside_the_dialling_hours(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    with time_machine.travel(at(TODAY, 21, 0), tick=False):
        client = client_for(nurse)
        client.post(attempt_url(call), {"attempt-expected_version": "1", "attempt-result": "no_answer"})
        html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    policy = text(re.search(r'<p class="small text-body-secondary call-attempt-policy">(.*?)</p>', html, re.S).group(1))
    assert policy == (
        "Unanswered dials counted so far: 0, on 0 day(s). Lost to follow-up after 3 unanswered dials on at least 2 "
        "different day(s). Dialling hours: 08:00-20:00. Next try suggested on 2026-11-26."
    )
    warning = re.search(r'<p class="alert alert-warning call-dialling-hours"[^>]*>(.*?)</p>', html, re.S)
    assert text(warning.group(1)) == (
        "Outside the dialling hours now: this ward dials from 08:00 to 20:00. "
        "A dial now does not count towards lost to follow-up."
    )


def test_a_dial_outside_the_dialling_hours_is_recorded_and_the_nurse_told_it_does_not_count(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    with time_machine.travel(at(TODAY, 21, 0), tick=False):
        response = client_for(nurse).post(
            attempt_url(call), {"attempt-expected_version": "1", "attempt-result": "busy"}, follow=True
        )

    assert [str(m) for m in response.context["messages"]] == [
        "This dial was outside the dialling hours (08:00-20:00): it does not count towards lost to follow-up.",
        "Attempt 1 recorded (Busy). Next try suggested on 2026-11-26.",
    ]


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "items"),
    [
        (
            {"callback_on": "", "callback_time": "", "callback_asked_by": ""},
            [
                ("id_attempt-callback_on", "Call back on: Say on which day to call back."),
                ("id_attempt-callback_time", "Call back at (hospital time): Say at what time to call back."),
                (
                    "id_attempt-callback_asked_by_0",
                    "Who asked to be called back: Say who asked to be called back: the patient or a family member.",
                ),
            ],
        ),
        (
            {"callback_time": "16:00"},
            [
                (
                    "id_attempt-callback_time",
                    "Call back at (hospital time): That time has passed: choose a time later than now "
                    "(2026-11-19 16:10).",
                )
            ],
        ),
        (
            {"callback_time": "21:30"},
            [
                (
                    "id_attempt-callback_time",
                    "Call back at (hospital time): This ward does not dial before 08:00 or after 20:00: "
                    "choose a time between them.",
                )
            ],
        ),
        (
            {"callback_on": "2027-01-05"},
            [
                (
                    "id_attempt-callback_on",
                    "Call back on: A callback can be at most 30 days ahead: on 2026-12-19 at the latest.",
                )
            ],
        ),
        (
            {"callback_on": "<script>alert(1)</script>", "callback_time": "9" * 5000},
            [
                ("id_attempt-callback_on", "Call back on: Enter a valid date."),
                ("id_attempt-callback_time", "Call back at (hospital time): Enter a valid time."),
            ],
        ),
    ],
)
def test_a_refused_callback_says_why_in_the_error_summary_and_saves_nothing(client_for, nurse, fields, items):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = client_for(nurse).post(attempt_url(call), callback_post(**fields))

    assert response.status_code == 400
    html = response.content.decode()
    assert (summary_of(html)[1], items_of(html)) == (
        f"Nothing was saved. Please correct {'this 1 thing' if len(items) == 1 else f'these {len(items)} things'}:",
        items,
    )
    call.refresh_from_db()
    assert (call.attempt_count, call.callback_at, call.version) == (0, None, 1)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("<script>alert(1)</script>", "“<script>alert(1)</script>” is not a phone number."),
        ("9" * 5000, "Ensure this value has at most 40 characters (it has 5000)."),
        ("", "Type the number you dialled."),
    ],
)
def test_a_hostile_other_number_is_refused_shown_escaped_and_saves_nothing(client_for, nurse, number, message):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = client_for(nurse).post(
        attempt_url(call),
        {
            "attempt-expected_version": "1",
            "attempt-dialled": "other",
            "attempt-other_number": number,
            "attempt-result": "no_answer",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert items_of(html) == [("id_attempt-other_number", f"Other number: {message}")]
    assert "<script>alert(1)" not in html
    assert CallAttempt.objects.count() == 0


def test_another_number_is_saved_normalised(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    client_for(nurse).post(
        attempt_url(call),
        {
            "attempt-expected_version": "1",
            "attempt-dialled": "other",
            "attempt-other_number": " 139-1234-5678 ",
            "attempt-result": "no_answer",
        },
    )

    assert list(CallAttempt.objects.values_list("dialled", "dialled_number")) == [("other", "+8613912345678")]


def test_a_hostile_note_is_saved_as_typed_and_shown_escaped(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    note = "<script>alert('x')</script> 女儿说晚上再打"
    client = client_for(nurse)

    client.post(attempt_url(call), callback_post(note=note))

    assert CallAttempt.objects.get().note == note
    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; 女儿说晚上再打" in html


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("a" * 20_001, "Note: This text is 20,001 characters long; the limit is 20,000. Shorten it and save again."),
    ],
)
def test_a_note_too_long_or_with_nul_is_refused(client_for, nurse, note, message):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = client_for(nurse).post(attempt_url(call), callback_post(note=note))

    assert (response.status_code, [shown for _target, shown in items_of(response.content.decode())]) == (
        400,
        [message],
    )
    assert CallAttempt.objects.count() == 0


def test_the_family_number_is_offered_only_when_on_record(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse, patient__family_phone="")

    form = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).context["attempt_form"]

    assert (form.fields["dialled"].choices, form.fields["dialled"].initial) == (
        [("patient", "Patient's phone"), ("other", "Another number")],
        "patient",
    )


def test_a_patient_who_prefers_family_on_the_phone_gets_the_family_number_first(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse, patient__communication_needs=["prefers_family"])

    form = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).context["attempt_form"]

    assert form.fields["dialled"].initial == "family"


@pytest.mark.parametrize("role", [Role.COMPLAINT_OFFICER, None])
def test_roles_other_than_nurses_are_refused_and_nothing_is_written(client_for, role):
    user = UserFactory(roles=[role] if role else [])
    call = make_call(department=ward_of(user))

    response = client_for(user).post(attempt_url(call), callback_post())

    assert response.status_code == 403
    call.refresh_from_db()
    assert (call.attempt_count, call.callback_at) == (0, None)


def test_a_call_of_another_ward_is_not_found_and_nothing_is_written(client_for, nurse):
    ward_of(nurse)
    call = make_call(department=ward_of(code="ONCO"))

    response = client_for(nurse).post(attempt_url(call), callback_post())

    assert response.status_code == 404
    assert FollowUpCall.objects.get(pk=call.pk).callback_at is None
    assert CallAttempt.objects.count() == 0


@pytest.mark.parametrize("field", ["other_number", "note", "callback_time"])
def test_a_nul_character_in_any_field_is_refused_with_a_plain_page_and_saves_nothing(client_for, nurse, field):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = client_for(nurse).post(attempt_url(call), callback_post(dialled="other", **{field: "139\x0012345678"}))

    assert response.status_code == 400
    assert (
        "The address or the form held an invisible control character (NUL) that cannot be saved."
        in response.content.decode()
    )
    assert CallAttempt.objects.count() == 0
