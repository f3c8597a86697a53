"""POST /interop/fhir/Bundle: token auth, OperationOutcome back."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from calls.models import Discharge, Patient
from interop.models import InboundMessage

from .test_fhir import PRACTITIONER, bundle, condition, encounter, patient

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def client():
    """Checks CSRF as a browser would: the endpoint must not need it."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def api(settings, client):
    settings.INTEROP_API_TOKEN = TOKEN

    def post(body: str, token: str | None = TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
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


def test_endpoint_is_closed_when_no_token_is_configured(api, settings, cardiology):
    settings.INTEROP_API_TOKEN = ""

    response = api(bundle(patient(), encounter(), PRACTITIONER), token="")

    assert response.status_code == 401


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


def test_get_is_not_allowed(client, settings):
    settings.INTEROP_API_TOKEN = TOKEN

    response = client.get(reverse("interop:fhir_bundle"), headers={"Authorization": f"Bearer {TOKEN}"})

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


def test_a_token_with_foreign_characters_is_refused_not_an_error(api, cardiology):
    response = api(bundle(patient(), encounter(), PRACTITIONER), token="令牌")

    assert response.status_code == 401
