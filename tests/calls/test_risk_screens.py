"""Risk drives the nurse's day: the worklist orders a day's calls by
readmission risk (after red flags and callbacks) and shows each stay's risk;
the call screen shows the LACE score with each component and its source, in
English and Chinese."""

import datetime as dt
import html as html_lib
import re

import pytest
import time_machine
from django.urls import reverse

from calls.models import ClinicalAlert, Discharge
from calls.services.risk import discharges_rescore
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import DischargeFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

WORKLIST = reverse("calls:worklist")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def text(fragment: str) -> str:
    return html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def rows(client) -> list[tuple[str, str]]:
    html = client.get(WORKLIST).content.decode()
    found = []
    for row in re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", html, re.S):
        name = text(re.search(r'<a[^>]* href="/calls/\d+/">(.*?)</a>', row).group(1))
        risk = text(re.search(r'<td class="worklist-risk">(.*?)</td>', row, re.S).group(1))
        found.append((name, risk))
    return found


def call_with_tier(department, nurse, name, tier, score=None, lower=0):
    patient = PatientFactory(name=name)
    stay = DischargeFactory(
        patient=patient,
        department=department,
        discharged_on=TODAY - dt.timedelta(days=7),
        risk_tier=tier,
        risk_score=score,
        risk_lower_bound=lower if score is None else score,
    )
    return make_call(department=department, nurse=nurse, patient=patient, discharge=stay)


def test_a_days_calls_are_ordered_by_risk_after_red_flags(client_for, nurse):
    ward = ward_of(nurse)
    call_with_tier(ward, nurse, "Low Li", "low", 3)
    call_with_tier(ward, nurse, "Unknown Wu", "unknown", lower=6)
    call_with_tier(ward, nurse, "High Han", "high", 12)
    call_with_tier(ward, nurse, "Moderate Ma", "moderate", 7)
    flagged = call_with_tier(ward, nurse, "Flag Fan", "low", 2)
    ClinicalAlert.objects.create(call=flagged, raised_at=NOW, due_at=NOW + dt.timedelta(hours=4))

    assert rows(client_for(nurse)) == [
        ("Flag Fan", "Low risk · LACE 2"),
        ("High Han", "High risk · LACE 12"),
        ("Moderate Ma", "Moderate risk · LACE 7"),
        ("Unknown Wu", "Unknown risk · LACE at least 6"),
        ("Low Li", "Low risk · LACE 3"),
    ]


def test_the_call_screen_shows_each_component_and_where_it_came_from(client_for, nurse, settings):
    ward = ward_of(nurse)
    patient = PatientFactory(name="Zhou Min")
    stay = DischargeFactory(
        patient=patient,
        department=ward,
        admitted_on=TODAY - dt.timedelta(days=12),
        discharged_on=TODAY - dt.timedelta(days=7),
        admission_type=Discharge.AdmissionType.EMERGENCY,
        icd10="I50.9",
        secondary_icd10=["J44.9"],
    )
    discharges_rescore(discharge_ids=[stay.pk])
    call = make_call(department=ward, nurse=nurse, patient=patient, discharge=stay)
    client = client_for(nurse)

    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()

    risk = text(html.split('id="call-risk">')[1].split("Attending doctor")[0])
    assert risk == (
        "Unknown risk · LACE at least 9 "
        "L · Length of stay points: 4 (5) · from the admission and discharge dates "
        "A · Acute admission points: 3 (emergency) · from the admission type "
        "C · Comorbidity (Charlson) points: 2 (2) · from the ICD-10 codes "
        "E · Emergency visits, 6 months before unknown · not known"
    )

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert "未知风险 · LACE 至少 9 分" in text(html)
    assert "得分：4 (5) · 依据入院和出院日期" in text(html)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("tier", "score", "lower"),
    [("high", 12, 12), ("moderate", 7, 7), ("low", 3, 3), ("unknown", None, 6), ("", None, 0), ("unknown", None, 0)],
)
def test_the_worklists_badge_is_the_call_screens_badge_without_the_components(language, tier, score, lower):
    """The worklist builds its badge in Python (risk_tier_badge, one per row):
    the same HTML as the template of risk_badge, whatever the tier, score and language."""
    from django.template import Context, Template
    from django.utils import translation

    stay = Discharge(risk_tier=tier, risk_score=score, risk_lower_bound=lower, risk_detail={"components": []})
    with translation.override(language):
        fast = Template("{% load risk %}{% risk_tier_badge stay %}").render(Context({"stay": stay}))
        templated = Template("{% load risk %}{% risk_badge stay %}").render(Context({"stay": stay}))

    assert fast == templated.strip()  # the template file ends with a line break
    assert 'class="badge ' in fast
