"""A cohort with readmissions known in advance (written for this test), fed
through the file import and HL7, reads back its readmission counts exactly
(issue: risk and outcome ledger, item 7). The index stays come from a file
with the risk columns; the later stays half by HL7, half by a second file."""

import datetime as dt

import pytest

from calls.dashboard.outcomes import outcome_figures
from calls.imports import read_discharge_file
from calls.models import Discharge
from calls.services.discharge_import import discharges_import
from interop.services import hl7_message_receive

from .conftest import adt

pytestmark = pytest.mark.django_db

INDEX_ADMITTED, INDEX_DISCHARGED = dt.date(2026, 9, 1), dt.date(2026, 9, 5)
HEADER = (
    "mrn,name,sex,phone,department_code,admitted_on,discharged_on,diagnosis,icd10,"
    "admission_type,secondary_icd10,emergency_visits_6m"
)

# (patients, index ICD-10, days after the index discharge the next stay is admitted, its ICD-10, path)
GROUPS = [
    (10, "I21.0", 15, "I21.9", "hl7"),  # same disease within 31 days: unplanned, and within 30
    (5, "I21.0", 10, "J44.1", "file"),  # another disease: a readmission, not an unplanned one
    (5, "C34.9", 8, "Z51.1", "hl7"),  # chemotherapy: planned, never unplanned
    (5, "I50.0", 31, "I50.9", "file"),  # day 31: unplanned (0-31), but not within 30
    (5, "I21.0", 40, "I21.4", "hl7"),  # day 40: neither
    (10, "I10", None, None, None),  # no later stay
]
EXPECTED = {"discharges_with_outcome": 40, "readmitted_0_31_unplanned": 15, "readmitted_30_all_cause": 20}


def csv_line(mrn, admitted, discharged, icd10, admission="emergency", secondary="", visits=""):
    return f'{mrn},患者{mrn},F,13812345678,CARD,{admitted},{discharged},诊断,{icd10},{admission},"{secondary}",{visits}'


def import_file(lines, name):
    content = "\n".join([HEADER, *lines]).encode("utf-8")
    report = discharges_import(
        rows=read_discharge_file(name=name, content=content), by=None, dry_run=False, source_reference=name
    )
    assert not report.errors, report.errors
    return report


def test_the_cohort_reads_back_its_readmissions_exactly(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    index_lines, later_lines, messages = [], [], []
    number = 0
    for count, icd10, days, later_icd10, path in GROUPS:
        for _ in range(count):
            number += 1
            mrn = f"ZY{number:03d}"
            index_lines.append(
                csv_line(mrn, INDEX_ADMITTED, INDEX_DISCHARGED, icd10, secondary="E11.9; I10", visits="1")
            )
            if days is None:
                continue
            admitted = INDEX_DISCHARGED + dt.timedelta(days=days)
            discharged = admitted + dt.timedelta(days=3)
            if path == "file":
                later_lines.append(csv_line(mrn, admitted, discharged, later_icd10))
            else:
                messages.append(
                    adt(
                        control_id=f"R{number}",
                        pid3=f"{mrn}^^^HOSP^MR",
                        admit=admitted.strftime("%Y%m%d090000"),
                        discharge=discharged.strftime("%Y%m%d100000"),
                        dg1=f"{later_icd10}^诊断^I10",
                    )
                )

    import_file(index_lines, "index-stays.csv")
    for text in messages:
        with django_capture_on_commit_callbacks(execute=True):
            assert hl7_message_receive(raw=text.encode("utf-8")).ack_code == "AA"
    import_file(later_lines, "later-stays.csv")

    figures = outcome_figures(
        department_ids=[cardiology.pk], start=INDEX_DISCHARGED, end=INDEX_DISCHARGED, today=dt.date(2026, 11, 30)
    )
    assert {key: figures[key] for key in EXPECTED} == EXPECTED
    # The file's risk columns reached every index stay: 4 days (4), emergency (3),
    # diabetes (1) and I21/I50 (1) or cancer (2), one visit reported (1).
    index = Discharge.objects.filter(admitted_on=INDEX_ADMITTED)
    assert sorted(set(index.values_list("risk_score", flat=True))) == [9, 10, 11]
    assert {
        (kind, tuple(codes), visits)
        for kind, codes, visits in index.values_list("admission_type", "secondary_icd10", "reported_emergency_visits")
    } == {("emergency", ("E11.9", "I10"), 1)}
