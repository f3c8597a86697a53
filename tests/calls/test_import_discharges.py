import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from calls.imports import IMPORT_COLUMNS, ImportFileError, read_discharge_file
from calls.models import DeathRecord, Discharge, FollowUpCall, Patient
from calls.services.discharge_import import discharges_import
from followup.models import AuditEvent
from followup.roles import Role
from tests.factories import DepartmentFactory, RuleStepFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ",".join(IMPORT_COLUMNS)
ROW_A = (
    "ZY001,张伟,男,1958-03-02,13812345678,张丽,女儿,021 6404 1990,CARD,2026-11-10,2026-11-16,冠心病,I25.1,刘医生,"
    "lina,2,胸闷偶发"
)
ROW_B = "ZY002,李秀英,F,1949/07/15,+8613912345678,,,,card,2026-11-12,2026-11-18,心力衰竭,I50.9,刘医生,,一级,"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def cardiology(db):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(UserFactory(username="lina", roles=[Role.NURSE]))
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


def csv_rows(*lines: str, encoding: str = "utf-8") -> list:
    return read_discharge_file(name="export.csv", content="\n".join([HEADER, *lines]).encode(encoding))


def snapshot():
    return (
        list(Patient.objects.order_by("pk").values()),
        list(Discharge.objects.order_by("pk").values()),
        list(FollowUpCall.objects.order_by("pk").values()),
    )


def test_good_file_creates_patients_discharges_and_this_weeks_calls(cardiology):
    report = discharges_import(rows=csv_rows(ROW_A, ROW_B), by=None, dry_run=False)
    assert (report.errors, report.created, report.updated, report.applied) == ([], 2, 0, True)
    patient = Patient.objects.get(mrn="ZY001")
    assert (patient.name, patient.sex, patient.birth_date) == ("张伟", "M", dt.date(1958, 3, 2))
    assert (patient.phone, patient.family_phone) == ("+8613812345678", "+862164041990")
    stay = Discharge.objects.get(patient__mrn="ZY002")
    assert (stay.department, stay.nursing_level, stay.source) == (cardiology, "1", Discharge.Source.IMPORT)
    assert Discharge.objects.get(patient=patient).responsible_nurse.username == "lina"
    assert sorted(FollowUpCall.objects.values_list("discharge__patient__mrn", "due_date")) == [
        ("ZY001", dt.date(2026, 11, 23)),
        ("ZY002", dt.date(2026, 11, 25)),
    ]


def test_importing_the_same_file_again_updates_and_never_duplicates(cardiology):
    discharges_import(rows=csv_rows(ROW_A, ROW_B), by=None, dry_run=False)
    first = snapshot()
    changed = ROW_B.replace("心力衰竭", "慢性心力衰竭")
    report = discharges_import(rows=csv_rows(ROW_A, changed), by=None, dry_run=False)
    assert (report.errors, report.created, report.updated) == ([], 0, 2)
    assert (Patient.objects.count(), Discharge.objects.count()) == (2, 2)
    assert FollowUpCall.objects.count() == len(first[2])
    assert Discharge.objects.get(patient__mrn="ZY002").diagnosis == "慢性心力衰竭"


def test_dry_run_reports_what_would_happen_and_changes_nothing(cardiology):
    discharges_import(rows=csv_rows(ROW_A), by=None, dry_run=False)
    before = snapshot()
    report = discharges_import(rows=csv_rows(ROW_A, ROW_B), by=None, dry_run=True)
    assert [(row.line, row.mrn, row.action) for row in report.rows] == [(2, "ZY001", "update"), (3, "ZY002", "create")]
    assert (report.created, report.updated, report.applied) == (1, 1, False)
    assert snapshot() == before


def test_a_bad_file_changes_nothing_and_reports_every_bad_row_with_its_line(cardiology):
    bad_date = ROW_B.replace("ZY002", "ZY003").replace("2026-11-18", "2026-13-40")
    unknown_department = ROW_B.replace("ZY002", "ZY004").replace("card", "XRAY")
    duplicate = ROW_A.replace("13812345678", "13812345679")
    bad_phone = ROW_B.replace("ZY002", "ZY005").replace("+8613912345678", "12345")
    before = snapshot()
    report = discharges_import(
        rows=csv_rows(ROW_A, bad_date, unknown_department, ROW_B, duplicate, bad_phone), by=None, dry_run=False
    )
    assert report.errors == [
        (3, "discharged_on “2026-13-40” is not a date (write it as YYYY-MM-DD)."),
        (4, "Unknown department code “XRAY”."),
        (6, "MRN ZY001 with admission 2026-11-10 is already on line 2."),
        (7, "phone: “12345” is not a valid phone number: check the digits and the area code."),
    ]
    assert report.applied is False
    assert snapshot() == before


def test_same_mrn_with_another_name_in_the_file_is_refused(cardiology):
    readmitted_other_name = ROW_A.replace("2026-11-10,2026-11-16", "2026-11-18,2026-11-20").replace("张伟", "张为")
    report = discharges_import(rows=csv_rows(ROW_A, readmitted_other_name), by=None, dry_run=False)
    assert report.errors == [(3, "MRN ZY001 has another name (“张伟”) on line 2.")]


def test_dates_in_the_wrong_order_or_future_and_missing_values_are_reported(cardiology):
    before_admission = ROW_B.replace("2026-11-12,2026-11-18", "2026-11-18,2026-11-12")
    future = ROW_B.replace("ZY002", "ZY009").replace("2026-11-12,2026-11-18", "2026-11-20,2026-11-30")
    no_name = ROW_B.replace("ZY002,李秀英", "ZY010,")
    report = discharges_import(rows=csv_rows(before_admission, future, no_name), by=None, dry_run=True)
    assert report.errors == [
        (2, "discharged_on: The discharge date is before the admission date."),
        (3, "discharged_on: The discharge date is in the future."),
        (4, "name is empty."),
    ]


def test_a_readmission_in_a_later_file_cancels_the_open_calls_of_the_earlier_stay(cardiology):
    discharges_import(rows=csv_rows(ROW_A), by=None, dry_run=False)
    readmission = ROW_A.replace("2026-11-10,2026-11-16", "2026-11-18,2026-11-20")
    discharges_import(rows=csv_rows(readmission), by=None, dry_run=False)
    call = FollowUpCall.objects.get(discharge__admitted_on=dt.date(2026, 11, 10))
    assert (call.status, call.cancel_reason) == (FollowUpCall.Status.CANCELLED, FollowUpCall.CancelReason.READMITTED)


def test_gbk_csv_is_read(cardiology):
    rows = csv_rows(ROW_A, encoding="gbk")
    assert rows[0][1]["name"] == "张伟"
    assert discharges_import(rows=rows, by=None, dry_run=False).created == 1


def test_utf8_with_byte_order_mark_is_read():
    content = ("\ufeff" + HEADER + "\n" + ROW_A).encode("utf-8")
    assert read_discharge_file(name="x.csv", content=content)[0][1]["mrn"] == "ZY001"


def test_a_file_in_another_encoding_is_refused_with_a_clear_message():
    with pytest.raises(ImportFileError) as excinfo:
        read_discharge_file(name="x.csv", content=(HEADER + "\n" + ROW_A).encode("utf-16"))
    assert str(excinfo.value) == (
        "The file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or as XLSX and try again."
    )


def test_a_file_without_the_required_columns_is_refused():
    with pytest.raises(ImportFileError) as excinfo:
        read_discharge_file(name="x.csv", content=b"mrn,name\nZY1,A\n")
    assert str(excinfo.value) == (
        "The first line must name the columns; missing: department_code, admitted_on, discharged_on, diagnosis."
    )


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(IMPORT_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_real_dates_and_numeric_mrn_and_phone_is_read(cardiology):
    row = [
        20261110,
        "王芳",
        "F",
        dt.datetime(1970, 1, 2),
        13812345678,
        "",
        "",
        "",
        "CARD",
        dt.datetime(2026, 11, 10),
        dt.date(2026, 11, 16),
        "冠心病",
        "I25",
        "",
        "",
        "",
        "",
    ]
    rows = read_discharge_file(name="export.xlsx", content=xlsx_bytes([row, [None] * 17]))
    report = discharges_import(rows=rows, by=None, dry_run=False)
    assert (report.errors, report.created) == ([], 1)
    patient = Patient.objects.get()
    assert (patient.mrn, patient.phone, patient.birth_date) == ("20261110", "+8613812345678", dt.date(1970, 1, 2))


def test_a_file_that_is_not_a_workbook_is_refused():
    with pytest.raises(ImportFileError) as excinfo:
        read_discharge_file(name="export.xlsx", content=b"not a zip")
    assert str(excinfo.value) == "The file is not a readable XLSX workbook."


def test_command_imports_and_reports(cardiology, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes((HEADER + "\n" + ROW_A + "\n" + ROW_B + "\n").encode("gb18030"))
    call_command("import_discharges", str(path), "--dry-run")
    assert capsys.readouterr().out == (
        "line 2: ZY001 张伟 admitted 2026-11-10 -> create\n"
        "line 3: ZY002 李秀英 admitted 2026-11-12 -> create\n"
        "2 discharge(s) would be created, 0 would be updated.\nDry run: nothing was changed.\n"
    )
    assert Discharge.objects.count() == 0
    call_command("import_discharges", str(path))
    assert capsys.readouterr().out == "2 discharge(s) were created, 0 were updated.\n"
    assert Discharge.objects.get(patient__mrn="ZY001").source_reference == "export.csv"


def test_command_lists_bad_rows_and_fails(cardiology, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "\n" + ROW_A.replace("CARD", "NOPE") + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"^1 problem\(s\) found; nothing was imported\.$"):
        call_command("import_discharges", str(path))
    assert capsys.readouterr().err == "line 2: Unknown department code “NOPE”.\n"
    assert Discharge.objects.count() == 0


def test_text_too_long_for_its_column_or_with_control_characters_is_reported_not_crashing(nurse):
    from calls.services.discharge_import import discharges_import

    DepartmentFactory(code="CARD")
    row = {
        "mrn": "ZY901",
        "name": "李娟\x00",
        "sex": "F",
        "birth_date": "",
        "phone": "13812345678",
        "family_name": "",
        "family_relation": "",
        "family_phone": "",
        "department_code": "CARD",
        "admitted_on": "2026-11-10",
        "discharged_on": "2026-11-16",
        "diagnosis": "冠心病",
        "icd10": "I25.1" * 10,
        "attending_doctor": "",
        "responsible_nurse": "",
        "nursing_level": "",
        "open_problems": "",
    }
    report = discharges_import(rows=[(7, row)], by=nurse, dry_run=False)
    assert report.errors == [
        (7, "name: This text contains control characters: type it again or paste it as plain text."),
        (7, "icd10: This text is longer than 16 characters."),
    ]
    assert report.applied is False


# --- deaths, dispositions, unknown columns, implausible births (hospital feeds issue) -------

DEATH_HEADER = HEADER  # IMPORT_COLUMNS end with deceased_on, discharge_disposition


def death_rows(*lines: str) -> list:
    return read_discharge_file(name="export.csv", content="\n".join([DEATH_HEADER, *lines]).encode())


def test_a_death_in_hospital_gives_no_calls_and_is_recorded(cardiology):
    died = ROW_A + ",,died"
    report = discharges_import(rows=death_rows(died, ROW_B + ",,home"), by=None, dry_run=False)
    assert report.errors == []
    dead = Patient.objects.get(mrn="ZY001")
    assert dead.deceased_on == dt.date(2026, 11, 16)  # the discharge date
    assert not FollowUpCall.objects.filter(discharge__patient=dead).exclude(status="cancelled").exists()
    assert FollowUpCall.objects.filter(discharge__patient__mrn="ZY002", status="scheduled").count() == 1


@pytest.mark.parametrize("disposition", ["死亡", "EXPIRED", "20"])
def test_dispositions_that_mean_death_are_understood(cardiology, disposition):
    discharges_import(rows=death_rows(ROW_A + f",,{disposition}"), by=None, dry_run=False)
    assert Patient.objects.get(mrn="ZY001").deceased_on == dt.date(2026, 11, 16)


def test_a_death_after_discharge_cancels_the_open_calls(cardiology):
    discharges_import(rows=death_rows(ROW_A + ",2026-11-20,"), by=None, dry_run=False)
    assert Patient.objects.get(mrn="ZY001").deceased_on == dt.date(2026, 11, 20)
    assert set(FollowUpCall.objects.values_list("status", flat=True)) <= {"cancelled"}


@pytest.mark.parametrize(
    ("deceased_on", "message"),
    [
        ("2026-12-30", "deceased_on: This date cannot be in the future."),
        ("2026-11-01", "deceased_on: The date of death is before the admission date."),
        ("1026-11-20", "deceased_on: Enter a date on or after 1 January 1900."),
        ("soon", "deceased_on “soon” is not a date (write it as YYYY-MM-DD)."),
    ],
)
def test_an_implausible_date_of_death_is_refused(cardiology, deceased_on, message):
    report = discharges_import(rows=death_rows(ROW_A + f",{deceased_on},"), by=None, dry_run=True)
    assert report.errors == [(2, message)]


def test_unknown_columns_are_listed_as_a_warning_and_the_rest_is_imported(cardiology):
    rows = read_discharge_file(
        name="export.csv", content="\n".join([f"{HEADER},ward_bed,<b>x</b>", ROW_A + ",,,,,,12,y"]).encode()
    )
    report = discharges_import(rows=rows, by=None, dry_run=False)
    assert report.applied
    assert report.warnings == [
        "These columns are not imported: <b>x</b>, ward_bed. The columns read are: " + ", ".join(IMPORT_COLUMNS) + "."
    ]


def test_the_command_prints_the_unknown_columns(cardiology, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text("\n".join([f"{HEADER},ward_bed", ROW_A + ",,,,,,12"]), encoding="utf-8")
    call_command("import_discharges", str(path))
    assert capsys.readouterr().err.startswith("warning: These columns are not imported: ward_bed.")


def test_a_birth_date_more_than_120_years_ago_is_refused(cardiology):
    report = discharges_import(rows=csv_rows(ROW_A.replace("1958-03-02", "1903-03-02")), by=None, dry_run=True)
    assert report.errors == [(2, "birth_date: The birth date 1903-03-02 is more than 120 years ago: check the year.")]


def test_deaths_in_a_file_cancel_stored_calls_and_their_records_list_them(cardiology):
    """A file's deaths are recorded together: each patient gets her one
    death record, her stored stay's open calls are cancelled and the record
    lists them (so a head nurse reversing it gets them back); two dates for
    one patient in one file leave the last one learnt."""
    discharges_import(rows=csv_rows(ROW_A, ROW_B), by=None, dry_run=False)
    open_b = set(FollowUpCall.objects.filter(discharge__patient__mrn="ZY002").values_list("pk", flat=True))
    assert open_b
    later_a = ROW_A.replace("2026-11-10,2026-11-16", "2026-11-17,2026-11-19")
    report = discharges_import(
        rows=death_rows(ROW_B + ",2026-11-20,", ROW_A + ",2026-11-20,", later_a + ",2026-11-21,"),
        by=None,
        dry_run=False,
    )
    assert (report.errors, report.applied) == ([], True)
    records = {record.patient.mrn: record for record in DeathRecord.objects.select_related("patient")}
    assert sorted(records) == ["ZY001", "ZY002"]
    assert (records["ZY002"].died_on, records["ZY002"].recorded_via) == (dt.date(2026, 11, 20), "import:file")
    assert set(records["ZY002"].cancelled_calls.values_list("pk", flat=True)) == open_b
    assert set(FollowUpCall.objects.filter(pk__in=open_b).values_list("status", "cancel_reason")) == {
        ("cancelled", "deceased")
    }
    assert records["ZY001"].died_on == dt.date(2026, 11, 21)
    assert Patient.objects.get(mrn="ZY001").deceased_on == dt.date(2026, 11, 21)
    assert not FollowUpCall.objects.filter(discharge__patient__mrn="ZY001", status="scheduled").exists()
    mrns = dict(Patient.objects.values_list("pk", "mrn"))
    died = Counter(
        (mrns[patient], fields)
        for patient, fields in AuditEvent.objects.filter(object_type="death").values_list("patient_id", "fields")
    )
    assert died == Counter({("ZY002", "died_on,call"): 1, ("ZY001", "died_on,call"): 1, ("ZY001", "died_on"): 1})
