"""POST /interop/fhir/Bundle: a token per sending system, OperationOutcome
back; GET /interop/fhir/metadata: the CapabilityStatement."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from calls.models import Discharge, Patient
from interop.models import FeedSender, InboundMessage, Kind, WardMapping
from interop.services import feed_sender_issue_token
from tests.factories import DepartmentFactory, UserFactory

from .test_fhir import PRACTITIONER, bundle, condition, encounter, patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Checks CSRF as a browser would: the endpoint must not need it."""
    return Client(enforce_csrf_checks=True)


def issue(name: str, **fields) -> str:
    sender = FeedSender.objects.create(kind=Kind.FHIR, name=name, **fields)
    return feed_sender_issue_token(sender=sender, by=UserFactory())


@pytest.fixture
def token(db) -> str:
    """The token of the sending system "EHR"."""
    return issue("EHR")


@pytest.fixture
def api(client, token):
    def post(body: str, token: str | None = token, **headers):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.post(
            reverse("interop:fhir_bundle"), data=body, content_type="application/fhir+json", headers=headers
        )

    return post


def test_bundle_with_the_token_creates_the_discharge_and_says_so(api, cardiology, now):
    response = api(bundle(patient(), encounter(), condition(), PRACTITIONER))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "Encounter/e1: discharge created for MRN ZY0001.",
            }
        ],
    }
    assert Discharge.objects.get().source == "fhir"


def test_sending_it_again_reports_an_update(api, cardiology, now):
    api(bundle(patient(), encounter(), PRACTITIONER))

    response = api(bundle(patient(), encounter(), PRACTITIONER))

    assert response.json()["issue"][0]["diagnostics"] == "Encounter/e1: discharge updated for MRN ZY0001."


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_without_a_valid_token_nothing_is_stored(api, token, cardiology, now):
    response = api(bundle(patient(), encounter(), PRACTITIONER), token=token)

    assert response.status_code == 401
    assert response.json()["issue"] == [
        {"severity": "error", "code": "login", "diagnostics": "A valid API token is required."}
    ]
    assert (InboundMessage.objects.count(), Patient.objects.count()) == (0, 0)


def test_a_switched_off_sender_token_opens_nothing(api, cardiology, now):
    FeedSender.objects.filter(name="EHR").update(active=False)

    response = api(bundle(patient(), encounter(), PRACTITIONER))

    assert response.status_code == 401
    assert InboundMessage.objects.count() == 0


def test_a_new_token_replaces_the_old_one(api, token, cardiology, now):
    fresh = feed_sender_issue_token(sender=FeedSender.objects.get(name="EHR"), by=UserFactory())

    assert api(bundle(patient(), encounter(), PRACTITIONER), token=token).status_code == 401
    assert api(bundle(patient(), encounter(), PRACTITIONER), token=fresh).status_code == 200


def test_the_sender_is_the_tokens_owner_whatever_the_headers_say(api, cardiology, now):
    surgery = DepartmentFactory(code="SURG")
    WardMapping.objects.create(kind=Kind.FHIR, sender="OTHER", code="3A", department=surgery)

    response = api(bundle(patient(), encounter(), PRACTITIONER), **{"X-Sender": "OTHER"})

    assert response.status_code == 200
    assert InboundMessage.objects.get().sender == "EHR"
    assert Discharge.objects.get().department == cardiology


def test_each_sender_files_into_its_own_wards_only(api, cardiology, now):
    WardMapping.objects.filter(kind=Kind.FHIR).delete()
    surgery = DepartmentFactory(code="SURG")
    WardMapping.objects.create(kind=Kind.FHIR, sender="LAB", code="3A", department=surgery)

    response = api(bundle(patient(), encounter(), PRACTITIONER))

    assert response.status_code == 422
    assert response.json()["issue"] == [
        {
            "severity": "error",
            "code": "processing",
            "diagnostics": "Encounter/e1: no ward mapping for its location or service provider (3A, Location/l1) "
            "and no default (*) mapping.",
        }
    ]
    assert Discharge.objects.count() == 0


def test_a_stay_in_another_senders_ward_is_not_changed(api, cardiology, now):
    """EHR's own mapping files 3A into surgery; the stay was filed into
    cardiology through LAB's mapping, which EHR does not have."""
    WardMapping.objects.filter(kind=Kind.FHIR).delete()
    WardMapping.objects.create(kind=Kind.FHIR, sender="LAB", code="3A", department=cardiology)
    surgery = DepartmentFactory(code="SURG")
    WardMapping.objects.create(kind=Kind.FHIR, sender="EHR", code="3A", department=surgery)
    lab = issue("LAB")
    assert api(bundle(patient(), encounter(), PRACTITIONER), token=lab).status_code == 200

    response = api(bundle(patient(name=[{"family": "王", "given": ["五"]}]), encounter(), PRACTITIONER))

    assert response.status_code == 422
    assert response.json()["issue"][0]["diagnostics"] == (
        "The stay of MRN ZY0001 admitted on 2026-11-16 is filed in a ward EHR has no ward mapping for: not changed."
    )
    assert (Discharge.objects.get().department, Patient.objects.get().name) == (cardiology, "张三")


def test_logged_in_staff_without_the_token_are_refused(api, client, admin_user, cardiology):
    client.force_login(admin_user)

    response = api(bundle(patient(), encounter(), PRACTITIONER), token=None)

    assert response.status_code == 401


def test_bad_bundle_gets_the_errors_and_changes_nothing(api, cardiology, now):
    response = api(bundle(patient(), encounter(end="yesterday"), PRACTITIONER))

    assert response.status_code == 422
    assert response.json()["issue"] == [
        {
            "severity": "error",
            "code": "processing",
            "diagnostics": "Encounter/e1: period.end “yesterday” is not a FHIR date/time.",
        }
    ]
    assert (Patient.objects.count(), InboundMessage.objects.get().status) == (0, "error")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "The body is not UTF-8 JSON."),
        (json.dumps({"resourceType": "Patient", "id": "p1"}), "The body is not a FHIR Bundle."),
    ],
)
def test_body_that_is_not_a_bundle_is_refused(api, body, reason, cardiology):
    response = api(body)

    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"] == reason
    assert InboundMessage.objects.count() == 0


def test_get_is_not_allowed(client, token):
    response = client.get(reverse("interop:fhir_bundle"), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405


def test_bundle_larger_than_forms_may_be_is_accepted(api, settings, cardiology, now):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    padded = json.loads(bundle(patient(), encounter(), PRACTITIONER))
    padded["entry"].append({"resource": {"resourceType": "Basic", "id": "pad", "text": "x" * 5000}})

    response = api(json.dumps(padded))

    assert response.status_code == 200
    assert Discharge.objects.count() == 1


def test_bundle_over_the_limit_is_refused(api, settings, cardiology):
    settings.INTEROP_FHIR_MAX_BYTES = 100

    response = api(bundle(patient(), encounter(), PRACTITIONER))

    assert response.status_code == 413
    assert response.json()["issue"][0]["diagnostics"] == "The bundle is larger than 100 bytes."
    assert InboundMessage.objects.count() == 0


def test_the_default_limit_is_ten_megabytes(settings):
    assert settings.INTEROP_FHIR_MAX_BYTES == 10 * 1024 * 1024


def test_a_body_past_the_limit_is_refused_without_reading_it_whole(token, settings, cardiology):
    """Content-Length says too much: refused before the body is read (the
    test's body is never consumed)."""
    settings.INTEROP_FHIR_MAX_BYTES = 1000

    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("interop:fhir_bundle"),
        "CONTENT_TYPE": "application/fhir+json",
        "CONTENT_LENGTH": str(49 * 1024 * 1024),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": Unreadable(),
    }
    response = Client().request(**environ)

    assert response.status_code == 413
    assert InboundMessage.objects.count() == 0


def test_metadata_says_what_is_accepted_without_a_token(client, settings):
    settings.INTEROP_FHIR_MAX_BYTES = 1234

    response = client.get(reverse("interop:fhir_metadata"))

    assert (response.status_code, response["Content-Type"]) == (200, "application/fhir+json")
    statement = response.json()
    assert (statement["resourceType"], statement["fhirVersion"], statement["kind"]) == (
        "CapabilityStatement",
        "4.0.1",
        "instance",
    )
    rest = statement["rest"][0]
    assert [r["type"] for r in rest["resource"]] == [
        "Bundle",
        "Encounter",
        "Patient",
        "Condition",
        "Practitioner",
        "Location",
        "Organization",
    ]
    assert rest["resource"][0]["interaction"] == [{"code": "create"}]
    assert "at most 1234 bytes" in rest["documentation"]
    assert "of class IMP" in rest["resource"][1]["documentation"]
    assert statement["implementation"]["url"] == "http://testserver/interop/fhir/"


def test_metadata_answers_only_get():
    assert Client().post(reverse("interop:fhir_metadata")).status_code == 405


def test_a_token_with_foreign_characters_is_refused_not_an_error(api, cardiology):
    response = api(bundle(patient(), encounter(), PRACTITIONER), token="令牌")

    assert response.status_code == 401


def test_a_nul_character_in_a_bundle_is_refused_and_changes_nothing(api, cardiology, now):
    hostile = bundle(patient(name=[{"family": "张\u0000", "given": ["三"]}]), encounter(), PRACTITIONER)
    assert "\\u0000" in hostile

    response = api(hostile)

    assert response.status_code == 422
    assert response.json()["issue"][0]["diagnostics"] == (
        "The input contains NUL characters (\\u0000), which no FHIR string may hold."
    )
    assert (Patient.objects.count(), InboundMessage.objects.get().status) == (0, "error")


def test_a_raw_nul_in_a_file_is_stored_as_the_replacement_character(cardiology, now):
    from interop.services import fhir_payload_receive

    message, _outcome = fhir_payload_receive(payload='{"resourceType": "Bundle", "x": "\x00"}', sender="file:\x00.json")

    assert (message.status, message.payload, message.sender) == (
        "ignored",
        '{"resourceType": "Bundle", "x": "\ufffd"}',
        "file:\ufffd.json",
    )
