"""What AuditMiddleware records: views of patient data with the patient they
concern, admin pages with the right object type, exports, and refused
requests (so that trying ids leaves a trace)."""

import pytest
from django.test import Client
from django.urls import reverse

from complaints.models import Category
from complaints.services import complaint_create
from followup.models import AuditEvent
from interop.models import InboundMessage
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpCallFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("actor_name", "source", "action", "object_type", "object_id", "patient_id", "status_code")


def trail() -> list[tuple]:
    """The rows after the test client's log-in and the arranging services'."""
    rows = AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN).exclude(pk__lte=_arranged)
    return list(rows.order_by("pk").values_list(*COLUMNS))


_arranged = 0


def arranged() -> None:
    """Rows written so far (by the services that set up the test) are not what it checks."""
    global _arranged
    _arranged = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture(autouse=True)
def _from_the_start():
    global _arranged
    _arranged = 0


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD")
    department.staff.add(nurse, head_nurse)
    return department


@pytest.fixture
def call(ward, nurse):
    return FollowUpCallFactory(discharge__department=ward, assigned_to=nurse)


def a_complaint(officer, patient=None):
    return complaint_create(
        by=officer,
        channel="hotline",
        category=Category.objects.get(code="attitude"),
        description="Rude at the pharmacy window.",
        complainant_name="Ms Li",
        patient=patient,
        owner=officer,
    )


# --- views ------------------------------------------------------------------------------


def test_the_call_screen_is_recorded_with_the_patient_it_shows(client_for, nurse, call):
    assert client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).status_code == 200

    assert trail() == [("alice", "user", "view", "call", str(call.pk), call.discharge.patient_id, 200)]


def test_a_complaint_is_recorded_with_its_patient_or_none(client_for, officer):
    patient = PatientFactory()
    about_patient, anonymous = a_complaint(officer, patient), a_complaint(officer)
    client = client_for(officer)
    arranged()

    client.get(reverse("complaints:detail", args=[about_patient.pk]))
    client.get(reverse("complaints:detail", args=[anonymous.pk]))

    assert trail() == [
        ("carol", "user", "view", "complaint", str(about_patient.pk), patient.pk, 200),
        ("carol", "user", "view", "complaint", str(anonymous.pk), None, 200),
    ]


def test_the_access_page_is_recorded_against_its_patient(client_for, head_nurse, call):
    patient_id = call.discharge.patient_id

    client_for(head_nurse).get(reverse("calls:patient_access", args=[patient_id]))

    assert trail() == [("bob", "user", "view", "patient", str(patient_id), patient_id, 200)]


def test_an_export_is_recorded_as_an_export(client_for, head_nurse, ward):
    response = client_for(head_nurse).get(reverse("calls:dashboard_export_csv"))

    assert "attachment" in response["Content-Disposition"]
    assert trail() == [("bob", "user", "export", "", "", None, 200)]


def test_anonymous_requests_are_not_recorded(client, call):
    assert client.get(reverse("calls:call_detail", args=[call.pk])).status_code == 302
    assert trail() == []


# --- refused requests ---------------------------------------------------------------------


def test_a_call_outside_the_nurses_scope_is_recorded_as_refused_with_its_patient(client_for, nurse):
    elsewhere = FollowUpCallFactory()

    assert client_for(nurse).get(reverse("calls:call_detail", args=[elsewhere.pk])).status_code == 404

    assert trail() == [("alice", "user", "refused", "call", str(elsewhere.pk), elsewhere.discharge.patient_id, 404)]


def test_trying_ids_leaves_one_refused_row_per_id(client_for, nurse, call):
    client = client_for(nurse)
    for pk in (call.pk + 1, call.pk + 2, 2**31, 10**30):
        assert client.get(f"/calls/{pk}/").status_code == 404

    assert trail() == [
        ("alice", "user", "refused", "call", str(call.pk + 1), None, 404),
        ("alice", "user", "refused", "call", str(call.pk + 2), None, 404),
        ("alice", "user", "refused", "call", str(2**31), None, 404),
        ("alice", "user", "refused", "call", str(10**30), None, 404),
    ]


def test_a_page_the_role_may_not_open_is_recorded_as_refused(client_for, officer):
    assert client_for(officer).get(reverse("calls:worklist")).status_code == 403

    assert trail() == [("carol", "user", "refused", "", "", None, 403)]


def test_a_refused_complaint_action_names_the_complaint(client_for, officer, nurse):
    complaint = a_complaint(officer)
    arranged()

    response = client_for(nurse).post(reverse("complaints:action", args=[complaint.pk, "note"]), {"note-text": "x"})

    assert response.status_code in (403, 404)
    assert trail() == [("alice", "user", "refused", "complaint", str(complaint.pk), None, response.status_code)]


def test_a_refused_head_nurse_access_page_is_recorded(client_for, head_nurse):
    elsewhere = FollowUpCallFactory()
    patient_id = elsewhere.discharge.patient_id

    assert client_for(head_nurse).get(reverse("calls:patient_access", args=[patient_id])).status_code == 404

    assert trail() == [("bob", "user", "refused", "patient", str(patient_id), patient_id, 404)]


def test_a_post_with_errors_is_neither_a_change_nor_a_refusal(client_for, nurse, call):
    response = client_for(nurse).post(reverse("calls:call_attempt", args=[call.pk]), {"result": "\x00"})

    assert response.status_code == 400
    assert trail() == []


# --- the FHIR endpoint ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer guessed"},
        {"Authorization": "Bearer guessed", "X-Sender": "EHR-2"},
        {"X-Sender": "EHR<b>" + "x" * 300},
    ],
)
def test_a_refused_fhir_post_is_recorded_with_the_address_and_never_the_senders_own_say(headers):
    response = Client().post(
        reverse("interop:fhir_bundle"), data="{}", content_type="application/fhir+json", headers=headers
    )

    assert response.status_code == 401
    assert trail() == [("fhir:unknown", "feed", "refused", "", "", None, 401)]
    assert AuditEvent.objects.get().ip_address == "127.0.0.1"


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def stay():
    return DischargeFactory()


@pytest.fixture
def root(db):
    """Only a superuser opens calls and complaints in the admin."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("model", "object_type", "target"),
    [
        ("calls_patient", "patient", lambda stay: stay.patient),
        ("calls_discharge", "stay", lambda stay: stay),
        ("calls_followupcall", "call", lambda stay: FollowUpCallFactory(discharge=stay)),
        (
            "interop_inboundmessage",
            "message",
            lambda stay: InboundMessage.objects.create(kind="hl7", payload="MSH|^~\\&|HIS", discharge=stay),
        ),
    ],
)
def test_admin_object_pages_are_recorded_with_their_type_and_patient(
    client_for, root, stay, model, object_type, target
):
    obj = target(stay)
    client = client_for(root)

    assert client.get(reverse(f"admin:{model}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:{model}_history", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200

    assert trail() == [
        ("root", "user", "view", object_type, str(obj.pk), stay.patient_id, 200),
        ("root", "user", "view", object_type, str(obj.pk), stay.patient_id, 200),
        ("root", "user", "view", object_type, "", None, 200),
    ]


def test_the_admin_complaint_page_is_recorded_with_its_patient(client_for, root, officer):
    patient = PatientFactory()
    complaint = a_complaint(officer, patient)
    arranged()

    client_for(root).get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))

    assert trail() == [("root", "user", "view", "complaint", str(complaint.pk), patient.pk, 200)]


def test_an_inbound_message_without_a_discharge_has_no_patient(client_for, admin_user):
    message = InboundMessage.objects.create(kind="hl7", payload="MSH|garbled", status="error")

    client_for(admin_user).get(reverse("admin:interop_inboundmessage_change", args=[message.pk]))

    assert trail() == [("dave", "user", "view", "message", str(message.pk), None, 200)]


@pytest.mark.parametrize("object_id", ["999999", "abc", "99999999999999999999999"])
def test_an_admin_page_for_a_missing_object_is_recorded_as_refused(client_for, admin_user, object_id):
    url = reverse("admin:calls_patient_change", args=[object_id])

    response = client_for(admin_user).get(url)

    assert response.status_code == 302  # the admin redirects to its index with a warning
    assert trail() == [("dave", "user", "refused", "patient", object_id.replace("\x00", ""), None, 302)]


def test_an_admin_page_the_user_may_not_open_is_recorded_as_refused(client_for, admin_user, stay):
    call = FollowUpCallFactory(discharge=stay)

    response = client_for(admin_user).get(reverse("admin:calls_followupcall_change", args=[call.pk]))

    assert response.status_code == 403
    assert trail() == [("dave", "user", "refused", "call", str(call.pk), stay.patient_id, 403)]


def test_a_change_saved_in_the_admin_is_recorded_by_the_service_with_the_fields(client_for, root, stay):
    url = reverse("admin:calls_patient_change", args=[stay.patient_id])
    patient = stay.patient
    data = {
        name: getattr(patient, name)
        for name in ("mrn", "name", "sex", "birth_date", "phone", "family_name", "family_relation", "family_phone")
    }

    response = client_for(root).post(url, {**data, "name": "张三丰"})

    assert response.status_code == 302
    # The service's row (with the field names) and no second row from the middleware.
    assert trail() == [("root", "user", "change", "patient", str(patient.pk), patient.pk, None)]
    assert AuditEvent.objects.get(action="change").fields == "name"


def test_an_admin_page_of_another_wards_patient_is_recorded_as_refused_not_viewed(client_for, nurse, ward):
    """The admin answers an object outside the user's scope as a missing one
    (a redirect to its index): the trail says she was refused, not that she saw it."""
    elsewhere = DischargeFactory()
    nurse.is_staff = True
    nurse.save(update_fields=["is_staff"])
    client = client_for(nurse)

    for view in ("change", "history"):
        response = client.get(reverse(f"admin:calls_patient_{view}", args=[elsewhere.patient_id]))
        assert (response.status_code, response.url) == (302, reverse("admin:index"))
    client.post(reverse("admin:calls_patient_change", args=[elsewhere.patient_id]), {"name": "x"})

    row = ("alice", "user", "refused", "patient", str(elsewhere.patient_id), elsewhere.patient_id, 302)
    assert trail() == [row, row, row]


def test_an_admin_page_for_a_user_without_entry_to_the_admin_is_recorded_as_refused(client_for, head_nurse, stay):
    client = client_for(head_nurse)

    client.get(reverse("admin:calls_patient_change", args=[stay.patient_id]))
    client.post(reverse("admin:calls_discharge_changelist"), {"action": "delete_selected", "_selected_action": stay.pk})

    assert trail() == [
        ("bob", "user", "refused", "patient", str(stay.patient_id), stay.patient_id, 302),
        ("bob", "user", "refused", "stay", "", None, 302),
    ]
