"""audit_change(): the services' way to record a change, in their transaction,
with the names of the changed fields and the patient concerned."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from followup.audit import (
    AuditMiddleware,
    audit_batch,
    audit_change,
    audit_changes,
    audit_events_for_patient,
    changed_fields,
    current_request,
    field_values,
)
from followup.models import AuditEvent
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpCallFactory, PatientFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("actor_id", "actor_name", "source", "action", "object_type", "object_id", "patient_id", "fields", "note")


def row(event: AuditEvent) -> tuple:
    event = AuditEvent.objects.get(pk=event.pk)
    return tuple(getattr(event, name) for name in COLUMNS)


def test_a_users_change_names_the_user_the_changed_fields_and_the_patient(nurse):
    call = FollowUpCallFactory()

    event = audit_change(
        actor=nurse,
        object_type="call",
        object_id=call.pk,
        fields=["status", "outcome"],
        patient_id=call.discharge.patient_id,
    )

    assert row(event) == (
        nurse.pk,
        "alice",
        "user",
        "change",
        "call",
        str(call.pk),
        call.discharge.patient_id,
        "status,outcome",
        "",
    )
    assert (event.ip_address, event.path, event.method, event.url_name) == (None, "", "", "")


def test_a_patients_own_change_is_filed_under_the_patient(nurse):
    patient = PatientFactory()

    event = audit_change(actor=nurse, object_type="patient", object_id=patient.pk, fields=["phone"])

    assert (event.patient_id, event.fields) == (patient.pk, "phone")


@pytest.mark.parametrize(
    ("label", "source"),
    [
        ("hl7:HIS/HOSP", "feed"),
        ("fhir:api", "feed"),
        ("task:calls.generate_weekly_queue", "task"),
        ("import:discharges-2026-11.csv", "import"),
        ("system", "system"),
    ],
)
def test_a_non_user_actor_is_named_by_its_label_and_its_kind(label, source):
    patient = PatientFactory()

    event = audit_change(actor=label, object_type="stay", object_id=7, patient_id=patient.pk, action="view")

    assert row(event) == (None, label, source, "view", "stay", "7", patient.pk, "", "")


@pytest.mark.parametrize("label", ["", "root", "hl7:", "hl7:   ", "mallory:x", "HL7:HIS", "task"])
def test_an_unknown_actor_label_is_refused(label):
    with pytest.raises(ValueError, match="unknown audit actor label"):
        audit_change(actor=label, object_type="patient", object_id=1)
    assert AuditEvent.objects.count() == 0


def test_an_anonymous_or_unsaved_actor_is_refused():
    from django.contrib.auth.models import AnonymousUser

    from followup.models import User

    for actor in (AnonymousUser(), User(username="ghost"), None):
        with pytest.raises(TypeError):
            audit_change(actor=actor, object_type="patient", object_id=1)
    assert AuditEvent.objects.count() == 0


def test_an_object_type_outside_the_vocabulary_is_refused(nurse):
    with pytest.raises(ValueError, match="unknown audit object type 'patients'"):
        audit_change(actor=nurse, object_type="patients", object_id=1)


def test_an_unknown_action_is_refused(nurse):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_change(actor=nurse, object_type="patient", object_id=1, action="edit")


@pytest.mark.parametrize(
    "fields",
    [
        ["+8613800138000"],  # a phone number
        ["13800138000"],
        ["张三"],  # a name
        ["Zhang San"],
        ["phone=13800138000"],
        ["phone\x00"],
        ["x" * 65],
        [None],
    ],
)
def test_a_value_in_place_of_a_field_name_never_reaches_the_trail(nurse, fields):
    with pytest.raises(ValueError, match="not a field name"):
        audit_change(actor=nurse, object_type="patient", object_id=1, fields=fields)
    assert AuditEvent.objects.count() == 0


def test_a_single_string_is_not_taken_for_a_list_of_names(nurse):
    with pytest.raises(TypeError):
        audit_change(actor=nurse, object_type="patient", object_id=1, fields="phone")


def test_repeated_field_names_are_stored_once_in_the_order_given(nurse):
    event = audit_change(actor=nurse, object_type="patient", object_id=1, fields=["phone", "name", "phone"])

    assert event.fields == "phone,name"


def test_a_hostile_patient_id_is_refused(nurse):
    for patient_id in (0, -3, 2**63, "12; DROP TABLE"):
        with pytest.raises(ValueError, match="not a patient id"):
            audit_change(actor=nurse, object_type="call", object_id=1, patient_id=patient_id)


def test_nul_and_overlong_text_are_cleaned_not_an_error():
    event = audit_change(
        actor="hl7:HIS\x00HOSP" + "x" * 300, object_type="message", object_id="A\x00" * 40, note="n\x00" * 600
    )

    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_name, event.object_id, event.note) == (
        ("hl7:HISHOSP" + "x" * 300)[:150],
        "A" * 40,
        "n" * 500,
    )


def test_the_row_goes_with_the_transaction_it_was_written_in(nurse):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_change(actor=nurse, object_type="patient", object_id=1, fields=["phone"])
        raise RuntimeError("the change failed")

    assert AuditEvent.objects.count() == 0


# --- changed_fields -------------------------------------------------------------------


def test_changed_fields_names_only_what_differs():
    patient = PatientFactory(phone="+8613800000001", name="张三")
    names = ["name", "phone", "mrn", "deceased_on"]
    before = field_values(patient, names)

    patient.phone = "+8613800000002"

    assert changed_fields(before, patient, names) == ["phone"]


def test_changed_fields_compares_a_foreign_key_by_its_id_without_loading_it(django_assert_num_queries):
    discharge = DischargeFactory()
    other = DepartmentFactory()
    before = field_values(discharge, ["department", "diagnosis"])
    discharge.department_id = other.pk

    with django_assert_num_queries(0):
        assert changed_fields(before, discharge, ["department", "diagnosis"]) == ["department"]


def test_changed_fields_takes_two_dicts_or_two_instances():
    first, second = PatientFactory(name="王五"), PatientFactory(name="王五")

    assert changed_fields({"name": "a", "sex": "F"}, {"name": "b", "sex": "F"}, ["name", "sex"]) == ["name"]
    assert changed_fields(first, second, ["name", "mrn"]) == ["mrn"]
    assert changed_fields({"name": "a"}, {}, ["name"]) == ["name"]


def test_changed_fields_compares_many_to_many_by_member_ids(officer):
    from complaints.models import Category
    from complaints.services import complaint_create

    ward = DepartmentFactory()
    complaint = complaint_create(
        by=officer,
        channel="hotline",
        category=Category.objects.get(code="attitude"),
        description="d",
        complainant_name="n",
    )
    before = field_values(complaint, ["departments", "description"])
    complaint.departments.add(ward)

    assert changed_fields(before, complaint, ["departments", "description"]) == ["departments"]


# --- inside a web request -------------------------------------------------------------


def test_inside_a_request_the_row_carries_the_address_path_method_and_user(nurse):
    seen = {}

    def view(request):
        seen["request"] = current_request()
        seen["event"] = audit_change(actor=nurse, object_type="patient", object_id=5, fields=["phone"])
        seen["import"] = audit_change(actor="import:ward.csv", object_type="stay", object_id=9, patient_id=5)
        return HttpResponse("ok")

    request = RequestFactory().post("/anywhere/?x=1", REMOTE_ADDR="10.4.4.4")
    request.user = nurse
    AuditMiddleware(view)(request)

    event, imported = (AuditEvent.objects.get(pk=seen[key].pk) for key in ("event", "import"))
    assert seen["request"] is request
    assert (event.ip_address, event.path, event.method, event.actor) == ("10.4.4.4", "/anywhere/?x=1", "POST", nurse)
    # A label acting in a request keeps the user who started it.
    assert (imported.actor, imported.actor_name, imported.source, imported.ip_address) == (
        nurse,
        "import:ward.csv",
        "import",
        "10.4.4.4",
    )
    assert current_request() is None


def test_the_request_context_ends_with_the_request_even_when_the_view_fails(nurse):
    def view(request):
        raise RuntimeError("boom")

    request = RequestFactory().get("/")
    request.user = nurse
    with pytest.raises(RuntimeError):
        AuditMiddleware(view)(request)

    assert current_request() is None
    assert audit_change(actor="system", object_type="user", object_id=1).path == ""


def test_a_post_whose_service_recorded_the_change_is_not_recorded_twice(nurse):
    call = FollowUpCallFactory()
    path = f"/calls/{call.pk}/attempt/"

    def service_that_audits(request):
        audit_change(actor=nurse, object_type="call", object_id=call.pk, fields=["attempts"])
        return HttpResponse(status=302)

    def service_that_does_not(request):
        return HttpResponse(status=302)

    for view in (service_that_audits, service_that_does_not):
        request = RequestFactory().post(path)
        request.user = nurse
        request.resolver_match = resolve(path)
        AuditMiddleware(view)(request)

    assert list(AuditEvent.objects.order_by("pk").values_list("object_type", "fields", "patient_id")) == [
        ("call", "attempts", None),
        # the fallback for a service that does not call audit_change yet, with the patient looked up
        ("call", "", call.discharge.patient_id),
    ]


# --- reading a patient's trail -----------------------------------------------------------


def test_a_patients_trail_finds_rows_by_patient_and_rows_written_before_rows_had_one(nurse):
    call = FollowUpCallFactory()
    patient_id = call.discharge.patient_id
    other = FollowUpCallFactory()
    mine = [
        audit_change(actor=nurse, object_type="complaint", object_id=3, patient_id=patient_id),
        AuditEvent.objects.create(actor=nurse, action="view", object_type="patient", object_id=str(patient_id)),
        AuditEvent.objects.create(actor=nurse, action="view", object_type="call", object_id=str(call.pk)),
    ]
    audit_change(actor=nurse, object_type="call", object_id=other.pk, patient_id=other.discharge.patient_id)

    found = audit_events_for_patient(patient_id=patient_id, call_ids=[call.pk])

    assert sorted(event.pk for event in found) == [event.pk for event in mine]


# --- batches ----------------------------------------------------------------------------------


def test_a_batch_writes_its_rows_with_one_insert_when_it_ends(nurse, django_assert_num_queries):
    patient = PatientFactory()

    with django_assert_num_queries(1), audit_batch():
        audit_change(actor=nurse, object_type="patient", object_id=patient.pk, fields=["phone"])
        audit_changes(actor="hl7:HIS", object_type="call", objects=[(7, patient.pk), (8, patient.pk)], note="x")

    assert list(AuditEvent.objects.order_by("pk").values_list("actor_name", "object_type", "object_id")) == [
        ("alice", "patient", str(patient.pk)),
        ("hl7:HIS", "call", "7"),
        ("hl7:HIS", "call", "8"),
    ]


def test_a_batch_that_raises_writes_nothing(nurse):
    with pytest.raises(ValueError, match="boom"), audit_batch():
        audit_change(actor=nurse, object_type="patient", object_id=1, fields=["phone"])
        raise ValueError("boom")

    assert AuditEvent.objects.count() == 0


def test_a_batch_inside_a_batch_adds_to_the_outer_one(nurse):
    with audit_batch():
        audit_change(actor=nurse, object_type="patient", object_id=1)
        with audit_batch():
            audit_change(actor=nurse, object_type="patient", object_id=2)
        assert AuditEvent.objects.count() == 0

    assert list(AuditEvent.objects.order_by("pk").values_list("object_id", flat=True)) == ["1", "2"]
