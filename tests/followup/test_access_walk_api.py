"""The access walk of the machines' endpoint and the small JSON and fragment
URLs (the pages are walked by test_access_walk, the admin by
test_access_walk_admin).

Every URL that answers without a session is named in WITHOUT_SESSION with
what guards it: a new one fails the walk until it says. The FHIR endpoint
refuses every request without a sending system's token, with another token
or scheme, or with the token of a system switched off; the token alone names
the sender (a header never does); a refused request writes nothing and
leaves a "refused" row. The fragments a page fetches after
loading (the unread badge, the session keep-alive) answer only a logged-in
user, about that user."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import Discharge, FollowUpCall, Patient
from followup.models import AuditEvent, Notification
from interop.models import FeedSender, InboundMessage, Kind, WardMapping
from interop.services import feed_sender_issue_token
from tests.factories import DepartmentFactory, UserFactory
from tests.interop.conftest import NOW
from tests.interop.test_fhir import PRACTITIONER, bundle, encounter, patient

from .test_access_walk import url_patterns

pytestmark = pytest.mark.django_db

# What guards each URL that answers without a session.
WITHOUT_SESSION = {
    "healthz": "nothing to guard: whether the database and the broker answer",
    "favicon": "nothing to guard: a redirect to a static file",
    "login": "the log-in form (django-axes locks out guessing)",
    "set_language": "nothing to guard: a language cookie",
    "interop:fhir_bundle": "a bearer token of an active sending system (interop.FeedSender)",
    "interop:fhir_metadata": "nothing to guard: what the endpoint accepts (no patient data, no sender names)",
    "self_report:open": "a signed random token of a link still open (only its hash is stored); rate-limited",
    "self_report:form": "the link its token opened, held in the visitor's session; rate-limited",
    "self_report:sms_receipts": "the SMS gateway's key (SMS_CALLBACK_KEY) in the address; 404 without it",
    "self_report:sms_replies": "the SMS gateway's key (SMS_CALLBACK_KEY) in the address; 404 without it",
}

FHIR = reverse("interop:fhir_bundle")
TOKEN_REQUIRED = [{"severity": "error", "code": "login", "diagnostics": "A valid API token is required."}]


def test_every_url_answering_without_a_session_says_what_guards_it():
    reachable = {name for name, pattern in url_patterns() if not getattr(pattern.callback, "login_required", True)}

    assert sorted(reachable) == sorted(WITHOUT_SESSION)


# --- the FHIR endpoint ------------------------------------------------------------------------


@pytest.fixture
def feed():
    """The hospital's system "HIS" with its token; FHIR stays default to
    cardiology. A second system, "OLD", is switched off."""
    cardiology = DepartmentFactory(code="CARD")
    WardMapping.objects.create(kind=Kind.FHIR, code=WardMapping.DEFAULT_CODE, department=cardiology)
    issuer = UserFactory(username="issuer")
    tokens = {
        name: feed_sender_issue_token(sender=FeedSender.objects.create(kind=Kind.FHIR, name=name), by=issuer)
        for name in ("HIS", "OLD")
    }
    FeedSender.objects.filter(name="OLD").update(active=False)
    with time_machine.travel(NOW, tick=False):
        yield tokens


def written() -> dict[str, int]:
    models = (InboundMessage, Patient, Discharge, FollowUpCall, Notification)
    return {model.__name__: model.objects.count() for model in models}


def feed_trail() -> list[tuple]:
    return list(
        AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN)
        .exclude(object_type="sender")  # the fixture's tokens
        .order_by("pk")
        .values_list("actor_name", "source", "action", "status_code")
    )


def push(client=None, **headers):
    return (client or Client(enforce_csrf_checks=True)).post(
        FHIR, data=bundle(patient(), encounter(), PRACTITIONER), content_type="application/fhir+json", headers=headers
    )


@pytest.mark.parametrize(
    ("headers", "issues"),
    [
        pytest.param({"X-Sender": "HIS"}, TOKEN_REQUIRED, id="no token"),
        pytest.param({"Authorization": "Bearer guessed", "X-Sender": "HIS"}, TOKEN_REQUIRED, id="wrong token"),
        pytest.param({"Authorization": "Bearer {HIS}x"}, TOKEN_REQUIRED, id="token and more"),
        pytest.param({"Authorization": "Bearer {HIS_CUT}"}, TOKEN_REQUIRED, id="token cut short"),
        pytest.param({"Authorization": "Basic {HIS}"}, TOKEN_REQUIRED, id="another scheme"),
        pytest.param({"Authorization": "{HIS}"}, TOKEN_REQUIRED, id="no scheme"),
        pytest.param({"Authorization": "Bearer {OLD}", "X-Sender": "OLD"}, TOKEN_REQUIRED, id="switched off"),
        pytest.param({"Authorization": "Bearer 令牌<script>"}, TOKEN_REQUIRED, id="foreign characters"),
    ],
)
def test_a_refused_push_writes_nothing_and_leaves_a_refusal(feed, headers, issues):
    values = {"HIS": feed["HIS"], "HIS_CUT": feed["HIS"][:-1], "OLD": feed["OLD"]}
    headers = {name: value.format(**values) for name, value in headers.items()}
    before = written()

    response = push(**headers)

    assert (response.status_code, response.json()["issue"]) == (401, issues)
    assert written() == before
    assert feed_trail() == [("fhir:unknown", "feed", "refused", 401)]


def test_a_session_is_no_token(feed):
    """A superuser's browser session does not open the endpoint."""
    browser = Client()
    browser.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    before = written()

    response = push(browser, **{"X-Sender": "HIS"})

    assert (response.status_code, response.json()["issue"]) == (401, TOKEN_REQUIRED)
    assert written() == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post_is_answered_and_other_methods_write_nothing(feed, method):
    response = getattr(Client(), method)(FHIR, headers={"Authorization": f"Bearer {feed['HIS']}"})

    assert (response.status_code, written()["InboundMessage"]) == (405, 0)


def test_the_token_names_the_sender_that_registers_the_discharge(feed):
    response = push(**{"Authorization": f"Bearer {feed['HIS']}", "X-Sender": "EHR-2"})

    assert response.status_code == 200
    assert list(Discharge.objects.values_list("patient__mrn", "department__code", "source")) == [
        ("ZY0001", "CARD", "fhir")
    ]
    assert InboundMessage.objects.get().sender == "HIS"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSED).count() == 0


def test_metadata_answers_anyone_and_names_no_sender(feed):
    response = Client().get(reverse("interop:fhir_metadata"))

    assert response.status_code == 200
    assert "HIS" not in response.content.decode()
    assert written()["InboundMessage"] == 0


# --- JSON and fragments ------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "nurse", "officer", "no_role_user"])
def test_health_says_only_ok_to_anyone(request, client, who):
    if who:
        client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_keepalive_answers_only_a_session_and_says_nothing(client, nurse):
    anonymous = client.get(reverse("keepalive"))
    assert (anonymous.status_code, anonymous.url) == (302, f"{reverse('login')}?next={reverse('keepalive')}")

    client.force_login(nurse)
    response = client.get(reverse("keepalive"))

    assert (response.status_code, response.content) == (204, b"")


def test_the_unread_badge_counts_only_the_readers_own_notifications(client, officer, head_nurse, nurse, no_role_user):
    for recipient, unread in ((officer, 2), (head_nurse, 1)):
        for n in range(unread):
            Notification.objects.create(recipient=recipient, text=f"Complaint {n} overdue")
    Notification.objects.create(recipient=nurse, text="Read already", read_at=timezone.now() - dt.timedelta(hours=1))
    url = reverse("complaints:notification_badge")
    badges = {}
    for user in (officer, head_nurse, nurse, no_role_user):
        client.force_login(user)
        response = client.get(url, headers={"HX-Request": "true"})
        badges[user.username] = (
            response.status_code,
            response.content.decode().strip() if response.status_code == 200 else "",
        )

    assert badges == {
        "carol": (200, '<span class="badge text-bg-warning">2<span class="visually-hidden"> unread</span></span>'),
        "bob": (200, '<span class="badge text-bg-warning">1<span class="visually-hidden"> unread</span></span>'),
        "alice": (200, ""),
        "charlie": (403, ""),
    }
