"""Shared pieces of the interop tests: the real public samples, HL7 v2.5
messages written to the spec, a ward mapping, eager Celery."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from followup.celery import app as celery_app
from interop.models import Kind, WardMapping
from tests.factories import DepartmentFactory, FollowUpRuleFactory, RuleStepFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 23 November 2026, 09:00 in the hospital: week 2026-W48.
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def samples_dir() -> Path:
    """The real public samples kept in the repository (tests/interop/samples,
    sources and licences in its README). Missing samples fail the test."""
    if not (SAMPLES_DIR / "hl7").is_dir() or not (SAMPLES_DIR / "fhir").is_dir():
        pytest.fail(f"The public HL7/FHIR samples are missing: no hl7/ and fhir/ under {SAMPLES_DIR}.")
    return SAMPLES_DIR


@pytest.fixture
def samples() -> Path:
    return samples_dir()


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def eager_celery():
    """Run tasks in the calling process (CELERY_TASK_ALWAYS_EAGER)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def cardiology(db):
    """Department CARD, reachable from HL7 ward code 3A (sender HIS/HOSP) and as
    the FHIR default (*), with a rule calling three days after discharge."""
    department = DepartmentFactory(code="CARD", name="Cardiology")
    WardMapping.objects.create(kind=Kind.HL7, sender="", code="3A", department=department)
    WardMapping.objects.create(kind=Kind.FHIR, sender="", code=WardMapping.DEFAULT_CODE, department=department)
    RuleStepFactory(
        rule=FollowUpRuleFactory(department=department),
        offset_days=3,
        weekdays=[0, 1, 2, 3, 4],
        window_start=dt.time(14),
        window_end=dt.time(17),
    )
    return department


def adt(
    trigger: str = "A03",
    *,
    control_id: str = "MSG0001",
    sending=("HIS", "HOSP"),
    pid3: str = "ZY0001^^^HOSP^MR",
    name: str = "张^三",
    birth: str = "19600517",
    sex: str = "F",
    phone: str = "13812345678^PRN^CP",
    ward: str = "3A^301^2^HOSP",
    doctor: str = "D01^李^四",
    admit: str = "20261116093000+0800",
    discharge: str = "20261120103000+0800",
    evn_trigger: str | None = None,
    evn6: str = "",
    dg1: str | None = "I25.1^冠心病^I10",
    extra: tuple[str, ...] = (),
    version: str = "2.5",
    charset: str = "UNICODE UTF-8",
    patient_class: str = "I",
    visit: str = "",
) -> str:
    """An ADT message as HL7 v2.5 chapter 3 lays it out (segments joined by CR)."""
    pv1 = [""] * 46
    pv1[0], pv1[1], pv1[2], pv1[3], pv1[7], pv1[44], pv1[45] = "PV1", "1", patient_class, ward, doctor, admit, discharge
    pv1[19] = visit
    segments = [
        f"MSH|^~\\&|{sending[0]}|{sending[1]}|FOLLOWUP||20261120103500+0800||ADT^{trigger}^ADT_A03|{control_id}"
        f"|P|{version}|||||CHN|{charset}",
        f"EVN|{evn_trigger or trigger}|20261120103500+0800||||{evn6}",
        f"PID|1||{pid3}||{name}||{birth}|{sex}|||||{phone}",
        "|".join(pv1).rstrip("|"),
    ]
    if dg1 is not None:
        segments.append(f"DG1|1||{dg1}||20261116|F")
    segments.extend(extra)
    return "\r".join(segments) + "\r"
