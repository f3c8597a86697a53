import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calls.imports import IMPORT_COLUMNS
from calls.models import Department, Discharge, FollowUpCall, FollowUpRule, Patient
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpCallFactory, RuleStepFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:calls_discharge_import")
CSV = (
    ",".join(IMPORT_COLUMNS) + "\n"
    "ZY001,张伟,M,1958-03-02,13812345678,,,,CARD,2026-11-10,2026-11-16,冠心病,I25.1,,,2,\n"
    "ZY002,李秀英,F,,13912345678,,,,CARD,2026-11-12,2026-11-18,心衰,I50.9,,,1,\n"
)


@pytest.fixture(autouse=True)
def _today(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def cardiology():
    department = DepartmentFactory(code="CARD")
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


def upload(client, text: str, name: str = "export.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def test_upload_previews_then_confirm_imports(client_for, admin_user, cardiology):
    client = client_for(admin_user)
    assert client.get(IMPORT).status_code == 200
    assert IMPORT in client.get(reverse("admin:calls_discharge_changelist")).content.decode()
    preview = upload(client, CSV)
    assert preview.status_code == 200
    report = preview.context["report"]
    assert [(r.line, r.mrn, r.action) for r in report.rows] == [(2, "ZY001", "create"), (3, "ZY002", "create")]
    assert Discharge.objects.count() == 0
    done = client.post(IMPORT, {"token": preview.context["token"], "file_name": "export.csv"}, follow=True)
    assert done.redirect_chain == [(reverse("admin:calls_discharge_changelist"), 302)]
    assert [str(m) for m in done.context["messages"]] == ["Imported: 2 discharges created, 0 updated."]
    assert sorted(Discharge.objects.values_list("patient__mrn", "source_reference")) == [
        ("ZY001", "export.csv"),
        ("ZY002", "export.csv"),
    ]
    assert FollowUpCall.objects.count() == 2


def test_a_bad_file_shows_every_bad_row_and_offers_no_confirmation(client_for, admin_user, cardiology):
    bad = CSV.replace("2026-11-16", "yesterday").replace("CARD,2026-11-12", "XRAY,2026-11-12")
    response = upload(client_for(admin_user), bad)
    assert response.context["report"].errors == [
        (2, "discharged_on “yesterday” is not a date (write it as YYYY-MM-DD)."),
        (3, "Unknown department code “XRAY”."),
    ]
    assert "token" not in response.context
    assert Discharge.objects.count() == 0


def test_an_unreadable_file_is_refused_on_the_form(client_for, admin_user):
    response = client_for(admin_user).post(IMPORT, {"file": SimpleUploadedFile("x.pdf", b"%PDF")})
    assert response.context["form"].errors["file"] == ["Only .csv and .xlsx files can be imported."]


def test_a_forged_token_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(IMPORT, {"token": "../../settings.py", "file_name": "x"})
    assert response.status_code == 403


def test_import_page_is_for_staff_with_discharge_permissions_only(client_for, nurse, head_nurse):
    for user in (nurse, head_nurse):
        response = client_for(user).get(IMPORT)
        assert (response.status_code, response.url) == (302, f"{reverse('admin:login')}?next={IMPORT}")


@pytest.mark.parametrize("model", [Department, Patient, Discharge, FollowUpRule])
def test_clinical_and_configuration_records_cannot_be_deleted_in_the_admin(client_for, admin_user, model):
    obj = {
        Department: DepartmentFactory,
        Patient: lambda: DischargeFactory().patient,
        Discharge: DischargeFactory,
        FollowUpRule: lambda: RuleStepFactory().rule,
    }[model]()
    url = reverse(f"admin:calls_{model._meta.model_name}_delete", args=[obj.pk])
    assert client_for(admin_user).get(url).status_code == 403


@pytest.mark.parametrize("name", ["department", "patient", "discharge", "followuprule"])
def test_admin_lists_search_and_open(client_for, admin_user, name):
    call = FollowUpCallFactory()
    client = client_for(admin_user)
    assert client.get(reverse(f"admin:calls_{name}_changelist"), {"q": "Z"}).status_code == 200
    obj = {
        "department": call.discharge.department,
        "patient": call.discharge.patient,
        "discharge": call.discharge,
        "followuprule": call.step.rule,
    }[name]
    assert client.get(reverse(f"admin:calls_{name}_change", args=[obj.pk])).status_code == 200


def test_recording_a_death_in_the_admin_cancels_the_open_calls(client_for, admin_user):
    call = FollowUpCallFactory()
    patient = call.discharge.patient
    client = client_for(admin_user)
    form = client.get(reverse("admin:calls_patient_change", args=[patient.pk])).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"birth_date": "1960-05-17", "deceased_on": "2026-11-20", "communication_needs": "[]"})
    response = client.post(reverse("admin:calls_patient_change", args=[patient.pk]), data)
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.cancel_reason) == ("cancelled", "deceased")


def test_an_export_over_the_import_limit_is_refused_on_the_form_and_nothing_is_kept(
    client_for, admin_user, cardiology, settings, tmp_path
):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(client_for(admin_user), CSV)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is larger than 100\xa0bytes, the largest accepted. Nothing was saved: choose a smaller file."
    ]
    assert "report" not in response.context
    assert (Discharge.objects.count(), list(tmp_path.iterdir())) == (0, [])


# --- a nurse given entry to the admin site: her wards' patients and departments only --------------

ADD = reverse("admin:calls_discharge_add")
NOT_A_CHOICE = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def staff_nurse(nurse, cardiology):
    """A nurse of cardiology to whom a superuser gave entry to the admin site."""
    cardiology.staff.add(nurse)
    nurse.is_staff = True
    nurse.save(update_fields=["is_staff"])
    return nurse


@pytest.fixture
def oncology_stay():
    return DischargeFactory(department=DepartmentFactory(code="ONCO"), patient__name="王芳", patient__mrn="ZY900")


def new_stay(patient, department, **overrides) -> dict:
    return {
        "patient": patient.pk,
        "department": department.pk,
        "admitted_on": "2026-11-10",
        "discharged_on": "2026-11-16",
        "diagnosis": "Heart failure",
        **overrides,
    }


def change_form(client, stay, **overrides) -> dict:
    form = client.get(reverse("admin:calls_discharge_change", args=[stay.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    return {**data, **overrides}


def test_an_add_page_given_another_wards_patient_in_the_address_does_not_name_them(
    client_for, staff_nurse, admin_user, oncology_stay
):
    url = f"{ADD}?patient={oncology_stay.patient_id}"

    html = client_for(staff_nurse).get(url).content.decode()
    assert ("王芳" in html, "ZY900" in html) == (False, False)

    assert "王芳 (ZY900)" in client_for(admin_user).get(url).content.decode()


def test_a_stay_for_another_wards_patient_is_refused_on_the_form(client_for, staff_nurse, cardiology, oncology_stay):
    response = client_for(staff_nurse).post(ADD, new_stay(oncology_stay.patient, cardiology))

    assert response.status_code == 200  # was a 500: discharge_register refused it after the form had passed
    assert response.context["adminform"].form.errors == {"patient": [NOT_A_CHOICE]}
    assert "王芳" not in response.content.decode()
    assert Discharge.objects.count() == 1


def test_a_nurse_files_no_stay_in_another_ward(client_for, staff_nurse, cardiology, oncology_stay):
    ours = DischargeFactory(department=cardiology)

    response = client_for(staff_nurse).post(
        ADD, new_stay(ours.patient, oncology_stay.department, admitted_on="2026-11-12")
    )

    assert response.context["adminform"].form.errors == {"department": [NOT_A_CHOICE]}
    assert Discharge.objects.count() == 2


def test_a_nurse_moves_no_stay_of_her_ward_into_another(client_for, staff_nurse, cardiology, oncology_stay):
    ours = DischargeFactory(department=cardiology)
    client = client_for(staff_nurse)

    response = client.post(
        reverse("admin:calls_discharge_change", args=[ours.pk]),
        change_form(client, ours, department=oncology_stay.department_id),
    )

    assert response.context["adminform"].form.errors == {"department": [NOT_A_CHOICE]}
    ours.refresh_from_db()
    assert ours.department == cardiology


def test_the_administrator_still_moves_a_stay_between_wards(client_for, admin_user, cardiology, oncology_stay):
    client = client_for(admin_user)

    response = client.post(
        reverse("admin:calls_discharge_change", args=[oncology_stay.pk]),
        change_form(client, oncology_stay, department=cardiology.pk),
    )

    assert response.status_code == 302
    oncology_stay.refresh_from_db()
    assert oncology_stay.department == cardiology


@pytest.mark.parametrize("value", ["abc", "1.5", "1,2", "-1", "99999999999999999999999", "<b>1</b>"])
@pytest.mark.parametrize("field", ["department", "patient"])
def test_an_add_page_given_a_hostile_value_in_the_address_opens_empty(client_for, admin_user, cardiology, field, value):
    response = client_for(admin_user).get(ADD, {field: value})

    assert response.status_code == 200  # ?department=abc was a 500 in Django's autocomplete widget
    # The department (an autocomplete) is dropped; the patient's raw-id box keeps the text and names no one.
    assert response.context["adminform"].form.initial.get(field) == (None if field == "department" else value)


def _discharge_form_data(client, stay):
    form = client.get(reverse("admin:calls_discharge_change", args=[stay.pk])).context["adminform"].form
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in form.initial.items() if v is not None}
    for name in ("admitted_on", "discharged_on"):
        data[name] = getattr(stay, name).isoformat()
    return {k: v for k, v in data.items() if not isinstance(v, dict | list)}


def test_correcting_the_risk_data_in_the_admin_scores_the_stay_again(client_for, admin_user):
    stay = DischargeFactory(admitted_on=dt.date(2026, 11, 10), discharged_on=dt.date(2026, 11, 15), icd10="I50.9")
    client = client_for(admin_user)
    data = _discharge_form_data(client, stay)
    data.update({"admission_type": "emergency", "secondary_icd10": "j44.9, N18.5", "reported_emergency_visits": "1"})

    response = client.post(reverse("admin:calls_discharge_change", args=[stay.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    stay.refresh_from_db()
    # 5 days: 4; emergency: 3; heart failure 1 + COPD 1 + renal disease 2 = 4: 5; one visit: 1.
    assert (stay.secondary_icd10, stay.risk_score, stay.risk_tier) == (["J44.9", "N18.5"], 13, "high")


def test_a_secondary_diagnosis_that_is_no_code_is_refused_in_the_admin(client_for, admin_user):
    stay = DischargeFactory()
    client = client_for(admin_user)
    data = _discharge_form_data(client, stay)
    data["secondary_icd10"] = "I10, <img src=x onerror=alert(1)>"

    response = client.post(reverse("admin:calls_discharge_change", args=[stay.pk]), data)

    assert response.status_code == 200
    assert "Not ICD-10 codes: &lt;IMG" in response.content.decode()
    stay.refresh_from_db()
    assert stay.secondary_icd10 == []
