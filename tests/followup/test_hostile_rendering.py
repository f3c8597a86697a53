"""Text that users and administrators type (script texts and hints, patient
names and notes, complaint descriptions, categories, HL7 fields) is shown as
text on every page and admin page, never as markup: the raw markup is not in
the page, its escaped form is. The pages that render such text are each
rendered here with hostile values, one per field (the markup followed by the
field's name, so a missing escape names the field)."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from calls.imports import IMPORT_COLUMNS
from calls.models import ClinicalAlert, FollowUpCall
from calls.services.call_work import call_record_attempt
from complaints import services as complaint_services
from complaints.models import Category, Complaint
from interop.models import InboundMessage
from interop.services import hl7_message_receive, inbound_message_process
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import (
    QuestionFactory,
    SatisfactionItemFactory,
    ScriptVersionFactory,
    TalkingPointFactory,
    UserFactory,
    bulk_calls,
)
from tests.interop.conftest import adt

MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<i hx-get="/x" hx-trigger=load>',
]

pytestmark = pytest.mark.django_db


@pytest.fixture(params=MARKUP, ids=["script", "img", "htmx"])
def markup(request) -> str:
    return request.param


def hostile(markup: str, field: str) -> str:
    return f"{markup}{field}"


def assert_escaped(html: str, markup: str, fields: list[str]) -> None:
    """Each field's hostile value is on the page escaped, and nowhere raw."""
    raw = [f for f in fields if hostile(markup, f) in html]
    missing = [f for f in fields if escape(hostile(markup, f)) not in html]
    assert (raw, missing) == ([], [])
    assert markup not in html


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ward(nurse, head_nurse, admin_user):
    return ward_of(nurse, head_nurse, admin_user)


def hostile_script(ward, markup: str):
    h = lambda field: hostile(markup, field)  # noqa: E731
    version = ScriptVersionFactory(script__name=h("script name"), status="published", published_at=timezone.now())
    version.script.departments.add(ward)
    TalkingPointFactory(version=version, phase="opening", text=h("opening point"), guidance=h("opening guidance"))
    TalkingPointFactory(version=version, phase="main", text=h("main point"), guidance=h("main guidance"))
    QuestionFactory(version=version, order=1, kind="yes_no", text=h("yes-no question"), help_text=h("yes-no hint"))
    QuestionFactory(
        version=version,
        order=2,
        kind="single",
        text=h("single question"),
        help_text=h("single hint"),
        choices=[h("choice one"), h("choice two")],
        red_flag_answers=[],
    )
    QuestionFactory(
        version=version, order=3, kind="text", required=False, text=h("text question"), help_text=h("text hint")
    )
    return version


PATIENT_FIELDS = ["patient name", "family name", "family relation", "communication notes"]
DISCHARGE_FIELDS = ["diagnosis", "condition at discharge", "open problems", "attending doctor"]
SCRIPT_FIELDS = [
    "opening point",
    "opening guidance",
    "main point",
    "main guidance",
    "yes-no question",
    "yes-no hint",
    "single question",
    "single hint",
    "choice one",
    "choice two",
    "text question",
    "text hint",
]


def hostile_call(ward, nurse, markup: str) -> FollowUpCall:
    h = lambda field: hostile(markup, field)  # noqa: E731
    call = make_call(
        department=ward,
        nurse=nurse,
        patient__name=h("patient name"),
        patient__phone="+8613812345678",
        patient__family_name=h("family name"),
        patient__family_relation=h("family relation"),
        patient__family_phone="+8613912345678",
        patient__communication_notes=h("communication notes"),
    )
    discharge = call.discharge
    discharge.diagnosis = h("diagnosis")
    discharge.condition_at_discharge = h("condition at discharge")
    discharge.open_problems = h("open problems")
    discharge.attending_doctor = h("attending doctor")
    discharge.save()
    return call


def test_call_screen_shows_script_patient_and_attempt_texts_escaped(client_for, nurse, ward, markup):
    hostile_script(ward, markup)
    SatisfactionItemFactory(code="hostile", name=hostile(markup, "satisfaction item"))
    call = hostile_call(ward, nurse, markup)
    call_record_attempt(
        call=call, by=nurse, result="no_answer", note=hostile(markup, "attempt note"), expected_version=call.version
    )

    html = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    assert_escaped(html, markup, [*SCRIPT_FIELDS, *PATIENT_FIELDS, *DISCHARGE_FIELDS, "script name", "attempt note"])
    assert escape(hostile(markup, "satisfaction item")) in html
    # The user-text regions are out of htmx's reach even if something slipped through.
    assert '<main id="main" class="container-fluid py-3" hx-disable>' in html
    assert 'class="call-script" data-script-version=' in html and "hx-disable>" in html


def test_completed_call_shows_summary_escaped(client_for, nurse, head_nurse, ward, markup):
    call = hostile_call(ward, nurse, markup)
    FollowUpCall.objects.filter(pk=call.pk).update(
        status=FollowUpCall.Status.COMPLETED,
        completed_at=timezone.now(),
        completed_by=nurse,
        summary=hostile(markup, "summary"),
    )
    ClinicalAlert.objects.create(
        call=call, raised_at=timezone.now(), due_at=timezone.now(), reason=hostile(markup, "alert reason")
    )

    screen = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    alerts = client_for(head_nurse).get(reverse("calls:alerts")).content.decode()

    assert_escaped(screen, markup, ["summary", "patient name", "diagnosis"])
    assert_escaped(alerts, markup, ["alert reason", "patient name"])


def test_script_preview_shows_every_text_escaped(client_for, admin_user, ward, markup):
    version = hostile_script(ward, markup)
    html = client_for(admin_user).get(reverse("calls:script_preview", args=[version.pk])).content.decode()
    assert_escaped(html, markup, [*SCRIPT_FIELDS, "script name"])


def test_worklist_and_discharge_list_show_patient_texts_escaped(client_for, nurse, ward, markup):
    hostile_call(ward, nurse, markup)
    client = client_for(nurse)

    worklist = client.get(reverse("calls:worklist")).content.decode()
    discharges = client.get(reverse("calls:discharge_list")).content.decode()

    assert_escaped(worklist, markup, ["patient name"])
    assert_escaped(discharges, markup, ["patient name", "diagnosis"])


def hostile_complaint(markup: str, officer, ward) -> Complaint:
    h = lambda field: hostile(markup, field)  # noqa: E731
    category = Category.objects.create(code="hostile", name_en=h("category"), name_zh=h("category"))
    ward.name = h("department")
    ward.save()
    complaint = complaint_services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=category,
        description=h("description"),
        complainant_name=h("complainant"),
        staff_involved_text=h("staff involved"),
        departments=[ward],
        owner=officer,
    )
    complaint_services.complaint_add_note(complaint=complaint, by=officer, text=h("timeline note"))
    complaint_services.promise_add(
        complaint=complaint, by=officer, what=h("promise"), owner=officer, due_on=dt.date(2030, 1, 1)
    )
    return complaint


COMPLAINT_FIELDS = ["category", "description", "complainant", "staff involved", "timeline note", "promise"]


def test_complaint_detail_and_list_show_texts_escaped(client_for, officer, ward, markup):
    complaint = hostile_complaint(markup, officer, ward)
    client = client_for(officer)

    detail = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    listing = client.get(reverse("complaints:list"), {"view": "all"}).content.decode()

    assert_escaped(detail, markup, [*COMPLAINT_FIELDS, "department"])
    assert_escaped(listing, markup, ["category", "department"])
    assert '<p class="mt-3 mb-0 complaint-description" hx-disable>' in detail


def test_dashboard_shows_nurse_and_category_names_escaped(client_for, head_nurse, officer, ward, markup, settings):
    settings.DASHBOARD_MIN_N = 1
    nurse = UserFactory(username="hostile_nurse", display_name=hostile(markup, "nurse name"))
    row = {"due_date": TODAY - dt.timedelta(days=2), "status": FollowUpCall.Status.COMPLETED, "assigned_to": nurse}
    bulk_calls(department=ward, rows=[row])
    complaint = hostile_complaint(markup, officer, ward)
    Complaint.objects.filter(pk=complaint.pk).update(received_at=NOW - dt.timedelta(days=2))

    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()

    assert_escaped(html, markup, ["nurse name", "category"])


@pytest.fixture
def admin_client(client_for, admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    return client_for(admin_user)


def test_admin_script_pages_show_texts_escaped(admin_client, ward, markup):
    version = hostile_script(ward, markup)
    pages = {
        "scripts": reverse("admin:calls_callscript_changelist"),
        "script": reverse("admin:calls_callscript_change", args=[version.script.pk]),
        "versions": reverse("admin:calls_scriptversion_changelist"),
        "version": reverse("admin:calls_scriptversion_change", args=[version.pk]),
    }
    html = {name: admin_client.get(url).content.decode() for name, url in pages.items()}

    assert_escaped(html["scripts"], markup, ["script name"])
    assert_escaped(html["script"], markup, ["script name"])
    assert_escaped(html["versions"], markup, ["script name"])
    # Choices are a JSON list there (quotes escaped as JSON first): raw markup is still absent.
    choices = {"choice one", "choice two"}
    assert_escaped(html["version"], markup, [f for f in SCRIPT_FIELDS if f not in choices] + ["script name"])


def test_admin_patient_and_discharge_pages_show_texts_escaped(admin_client, nurse, ward, markup):
    call = hostile_call(ward, nurse, markup)
    patient, discharge = call.discharge.patient, call.discharge
    pages = {
        "patients": reverse("admin:calls_patient_changelist"),
        "patient": reverse("admin:calls_patient_change", args=[patient.pk]),
        "discharges": reverse("admin:calls_discharge_changelist"),
        "discharge": reverse("admin:calls_discharge_change", args=[discharge.pk]),
        "calls": reverse("admin:calls_followupcall_changelist"),
    }
    html = {name: admin_client.get(url).content.decode() for name, url in pages.items()}

    assert_escaped(html["patients"], markup, ["patient name"])
    assert_escaped(html["patient"], markup, PATIENT_FIELDS)
    assert_escaped(html["discharges"], markup, ["patient name", "diagnosis"])
    assert_escaped(html["discharge"], markup, DISCHARGE_FIELDS)
    assert_escaped(html["calls"], markup, ["patient name"])


def test_admin_complaint_pages_show_texts_escaped(admin_client, officer, ward, markup):
    complaint = hostile_complaint(markup, officer, ward)
    pages = {
        "complaints": reverse("admin:complaints_complaint_changelist"),
        "complaint": reverse("admin:complaints_complaint_change", args=[complaint.pk]),
        "categories": reverse("admin:complaints_category_changelist"),
    }
    html = {name: admin_client.get(url).content.decode() for name, url in pages.items()}

    assert_escaped(html["complaints"], markup, ["category"])
    assert_escaped(html["complaint"], markup, ["description", "complainant", "staff involved"])
    assert_escaped(html["categories"], markup, ["category"])


def import_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_discharge_import_preview_shows_file_texts_escaped(admin_client, ward, markup, settings, tmp_path):
    """A hospital export with markup in a name and a diagnosis (a good row),
    and in a department code (a bad row, quoted in the reason)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    h = lambda field: hostile(markup, field)  # noqa: E731
    good = ["ZY001", h("file name"), "M", "1958-03-02", "13812345678", "", "", "", ward.code]
    good += ["2026-11-10", "2026-11-16", h("file diagnosis"), "I25.1", "", "", "2", ""]
    content = import_csv([good])
    bad_content = import_csv([[*good[:8], h("file ward"), *good[9:]]])

    preview = admin_client.post(
        reverse("admin:calls_discharge_import"), {"file": SimpleUploadedFile("export.csv", content)}
    ).content.decode()
    refused = admin_client.post(
        reverse("admin:calls_discharge_import"), {"file": SimpleUploadedFile("export.csv", bad_content)}
    ).content.decode()

    assert_escaped(preview, markup, ["file name"])
    assert markup not in refused
    assert escape(h("file ward")) in refused


def test_hl7_inbox_shows_a_hostile_message_escaped(admin_client, markup):
    """A message whose sender and patient name carry markup (none of HL7's
    delimiters ^ & ~ \\ | is in the markup, so it arrives whole)."""
    raw = adt(sending=(hostile(markup, "sender"), "HOSP"), name=hostile(markup, "hl7 name"), ward="9Z^1^1^HOSP")
    receipt = hl7_message_receive(raw=raw.encode())
    inbound_message_process(message_id=receipt.message.pk)
    message = InboundMessage.objects.get()

    listing = admin_client.get(reverse("admin:interop_inboundmessage_changelist")).content.decode()
    page = admin_client.get(reverse("admin:interop_inboundmessage_change", args=[message.pk])).content.decode()

    assert_escaped(listing, markup, ["sender"])
    assert_escaped(page, markup, ["sender", "hl7 name"])


def test_password_rules_built_as_markup_by_django_still_render_as_a_list(client_for, nurse):
    """The help-text override escapes plain strings only: Django's password
    rules (format_html) keep their list."""
    html = client_for(nurse).get(reverse("password_change")).content.decode()
    assert '<div id="id_new_password1_helptext" class="form-text" hx-disable><ul><li>' in html


def test_htmx_is_configured_to_refuse_eval_scripts_and_other_sites(client_for, nurse):
    html = client_for(nurse).get(reverse("calls:worklist")).content.decode()
    assert (
        """<meta name="htmx-config" content='{"selfRequestsOnly": true, "allowEval": false, """
        """"allowScriptTags": false, "includeIndicatorStyles": false, "historyCacheSize": 0, """
        """"refreshOnHistoryMiss": true}'>"""
    ) in html
