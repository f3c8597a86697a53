"""Patient-level figures beside the call-level ones (issue 18, item 1), the
lists behind every figure (item 3), and the figures as JSON (item 2)."""

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from calls.dashboard import patients as pt
from calls.models import FollowUpCall
from followup.roles import Role
from tests.calls.cohorts import END, REASONS, START, build_cardiology, cardiology_stays
from tests.factories import DepartmentFactory, UserFactory, bulk_stays

S = FollowUpCall.Status
NOW = dt.datetime(2012, 7, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cardiology(head_nurse, officer):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(head_nurse)
    build_cardiology(department, received_by=officer)
    return department


def patient_cells(html: str, key: str) -> dict[str, str]:
    row = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', html, re.S).group(1)
    return {
        name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip()
        for name, value in re.findall(r'data-cell="([\w-]+)">(.*?)</td>', row, re.S)
    }


def test_the_cardiology_cohort_reads_back_exactly(client_for, head_nurse, cardiology):
    response = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert patient_cells(html, "patients_discharged") == {"current": "1056", "share": "", "n": ""}
    assert patient_cells(html, "patients_reached") == {"current": "962", "share": "91.1%", "n": "n = 1056"}
    assert patient_cells(html, "patients_deceased") == {"current": "36", "share": "3.4%", "n": "n = 1056"}
    assert patient_cells(html, "patients_lost") == {"current": "58", "share": "5.5%", "n": "n = 1056"}
    assert patient_cells(html, "patients_with_family") == {"current": "478", "share": "49.7%", "n": "n = 962"}
    assert patient_cells(html, "patients_satisfied") == {"current": "885", "share": "92.0%", "n": "n = 962"}
    assert patient_cells(html, "patients_basically_satisfied") == {"current": "48", "share": "5.0%", "n": "n = 962"}
    assert patient_cells(html, "patients_unsatisfied") == {"current": "29", "share": "3.0%", "n": "n = 962"}
    # the call-level figures beside them: family participations as a count
    family = re.search(r'<tr data-figure="family">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'data-cell="count">(\d+)<', family).group(1) == "578"
    assert re.search(r'data-cell="current">(.*?)<', family).group(1) == "30.0%"
    figures = response.context["figures"]
    assert (figures.counts["due"], figures.counts["completed"]) == (2107, 1924)
    assert (figures.counts["deceased"], figures.counts["unreachable"]) == (67, 116)
    # satisfaction per call counts both calls: 1747 of 1924 rated calls
    assert (figures.counts["satisfied"], figures.counts["rated"]) == (1747, 1914)


def test_complaint_reasons_are_counts_and_shares_of_patients(client_for, head_nurse, cardiology):
    figures = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD).context["figures"]
    reasons = [
        (r["code"], r["complaints"], r["stays"], r["rate"].percent, r["rate"].n)
        for r in figures.patients.complaint_reasons
    ]
    assert reasons == [
        ("attitude", 33, 32, 3.0, 1056),
        ("doctor", 21, 21, 2.0, 1056),
        ("fees", 21, 21, 2.0, 1056),
        ("logistics", 11, 11, 1.0, 1056),
    ]
    assert [code for code, _n in REASONS] == [r[0] for r in reasons]


def _age(stay) -> int | None:
    birth, day = stay["birth_date"], stay["discharged_on"]
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _band(age) -> str:
    if age is None:
        return "unknown"
    return [code for code, youngest in pt.AGE_BANDS if age >= youngest][-1]


def test_the_cohort_by_sex_age_band_and_diagnosis(client_for, head_nurse, cardiology):
    figures = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD).context["figures"]
    p = figures.patients
    stays = cardiology_stays()
    assert [(r["value"], r["label"], r["patients"]) for r in p.by_sex] == [("M", "Male", 704), ("F", "Female", 352)]
    assert sum(r["reached"] for r in p.by_sex) == 962
    bands = {}
    for stay in stays:
        bands[_band(_age(stay))] = bands.get(_band(_age(stay)), 0) + 1
    assert {r["value"]: r["patients"] for r in p.by_age_band} == bands
    assert [r["value"] for r in p.by_age_band] == ["18-44", "45-59", "60-69", "70-79", "80+", "unknown"]
    assert bands["unknown"] == 12
    assert [(r["value"], r["patients"]) for r in p.by_chapter] == [("IV", 176), ("IX", 704), ("none", 176)]
    assert p.by_chapter[1]["label"] == "IX I00–I99 Diseases of the circulatory system"
    assert [(r["value"], r["patients"]) for r in p.by_icd10] == [
        ("", 176),
        ("E11.9", 176),
        ("I10", 176),
        ("I21.0", 176),
        ("I25.1", 176),
        ("I50.9", 176),
    ]


def test_each_patients_satisfaction_is_the_rating_of_the_last_rated_call(client_for, head_nurse, db):
    ward = DepartmentFactory(code="NEU")
    ward.staff.add(head_nurse)
    day = dt.date(2012, 6, 1)

    def call(offset, satisfaction, **extra):
        return {
            "due_date": day + dt.timedelta(days=offset),
            "status": S.COMPLETED,
            "satisfaction": satisfaction,
            **extra,
        }

    bulk_stays(
        department=ward,
        stays=[
            # unsatisfied first, satisfied last: satisfied
            {"discharged_on": day, "calls": [call(7, "unsatisfied"), call(30, "satisfied")]},
            # the last call has no rating: the one before counts
            {"discharged_on": day, "calls": [call(7, "basic"), call(30, "")]},
            # a call still to come does not count; nor does a cancelled one
            {"discharged_on": day, "calls": [call(7, "unsatisfied"), {"due_date": day, "status": S.SCHEDULED}]},
            # not reached: not rated
            {"discharged_on": day, "calls": [{"due_date": day, "status": S.UNREACHABLE}]},
        ],
    )
    p = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD).context["figures"].patients
    assert (p.rated, p.satisfied, p.basic, p.unsatisfied, p.lost, p.reached) == (3, 1, 1, 1, 1, 3)


def test_a_patient_reached_and_then_deceased_counts_in_both_and_is_never_lost(client_for, head_nurse, db):
    ward = DepartmentFactory(code="NEU")
    ward.staff.add(head_nurse)
    day = dt.date(2012, 6, 1)
    died = {"status": S.CANCELLED, "cancel_reason": "deceased"}
    bulk_stays(
        department=ward,
        stays=[
            {"discharged_on": day, "calls": [{"due_date": day, "status": S.COMPLETED}, {"due_date": day, **died}]},
            {"discharged_on": day, "calls": [{"due_date": day, "status": S.UNREACHABLE}, {"due_date": day, **died}]},
            {"discharged_on": day, "calls": [{"due_date": day, "status": S.UNREACHABLE}]},
            # readmitted: not reached, not lost, not deceased
            {"discharged_on": day, "calls": [{"due_date": day, "status": S.CANCELLED, "cancel_reason": "readmitted"}]},
            # a cancelled discharge is none
            {"discharged_on": day, "archived": True, "calls": [{"due_date": day, "status": S.COMPLETED}]},
        ],
    )
    p = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD).context["figures"].patients
    assert (p.discharged, p.reached, p.deceased, p.lost) == (4, 1, 2, 1)


@pytest.mark.parametrize(
    ("code", "chapter"),
    [
        ("I25.1", "IX"),
        (" i10 ", "IX"),
        ("A09", "I"),
        ("B99", "I"),
        ("C34.9", "II"),
        ("D48.9", "II"),
        ("D49", "none"),
        ("D50.0", "III"),
        ("E90", "IV"),
        ("H59.8", "VII"),
        ("H60.0", "VIII"),
        ("K93.8", "XI"),
        ("K94", "none"),
        ("S72.0", "XIX"),
        ("T98.3", "XIX"),
        ("V01", "XX"),
        ("Y98", "XX"),
        ("Z95.5", "XXI"),
        ("U07.1", "XXII"),
        ("", "none"),
        ("I2", "none"),
        ("<script>", "none"),
    ],
)
def test_icd10_chapter_of_a_code_in_python_and_in_sql(db, code, chapter):
    from calls.models import Discharge

    assert pt.chapter_of(code) == chapter
    ward = DepartmentFactory(code="NEU")
    [_calls] = bulk_stays(department=ward, stays=[{"discharged_on": dt.date(2012, 6, 1), "icd10": code}])
    matching = [
        n for n in pt.CHAPTER_CODES if Discharge.objects.filter(department=ward).filter(pt.chapter_q(n)).exists()
    ]
    assert matching == [chapter]


# --- every figure's link lists exactly what it counts -------------------------------------------


def counted_links(html: str) -> list[tuple[str, int]]:
    """Every link on the dashboard that carries the count of what it lists."""
    return [(unescape(href), int(count)) for href, count in re.findall(r'<a href="([^"]+)" data-count="(\d+)"', html)]


def test_every_figures_link_lists_exactly_what_it_counts(client_for, head_nurse, cardiology):
    client = client_for(head_nurse)
    html = client.get(reverse("calls:dashboard"), PERIOD).content.decode()
    links = counted_links(html)
    # call headlines, patient figures, complaint reasons, the cohort breakdowns, boxes, complaints
    assert len(links) >= 40
    listed = {href: client.get(href).context["page"].paginator.count for href, _count in links}
    assert [(href, listed[href]) for href, _count in links] == links
    assert {href.split("?")[0] for href, _count in links} == {
        "/calls/dashboard/calls/",
        "/calls/dashboard/patients/",
        "/complaints/",
    }
    expected = {
        "outcome=deceased": 36,
        "outcome=lost": 58,
        "satisfaction=satisfied": 885,
        "satisfaction=unsatisfied": 29,
        "family=on": 478,
    }
    patients = {href.split("&", 3)[-1]: count for href, count in links if href.startswith("/calls/dashboard/patients/")}
    assert {key: patients[key] for key in expected} == expected


def test_each_row_of_a_list_opens(client_for, head_nurse, cardiology):
    client = client_for(head_nurse)
    for query in ["outcome=deceased", "outcome=lost", "satisfaction=unsatisfied"]:
        html = client.get(f"{reverse('calls:dashboard_patients')}?{query}").content.decode()
        rows = re.findall(r'<td><a href="(/calls/dashboard/patients/\d+/)">', html)
        assert len(rows) == min(50, {"outcome=deceased": 36, "outcome=lost": 58, "satisfaction=unsatisfied": 29}[query])
        for href in rows[:5]:
            assert client.get(href).status_code == 200
    calls = client.get(reverse("calls:dashboard_calls"), {"status": "cancelled", "cancel_reason": "deceased"})
    assert calls.context["page"].paginator.count == 67
    for href in re.findall(r'<td><a href="([^"]+)">', calls.content.decode())[:5]:
        assert client.get(href).status_code == 200
    unsatisfied = client.get(reverse("calls:dashboard_calls"), {"satisfaction": "unsatisfied"})
    for href in re.findall(r'<td><a href="([^"]+)">', unsatisfied.content.decode())[:5]:
        assert client.get(href).status_code == 200


def test_the_stay_page_shows_every_call_of_a_deceased_patient(client_for, head_nurse, db):
    ward = DepartmentFactory(code="NEU", name="Neurology")
    ward.staff.add(head_nurse)
    day = dt.date(2012, 6, 1)
    died = {"status": S.CANCELLED, "cancel_reason": "deceased"}
    [calls] = bulk_stays(
        department=ward,
        stays=[
            {
                "discharged_on": day,
                "deceased_on": day + dt.timedelta(days=20),
                "sex": "F",
                "birth_date": dt.date(1950, 6, 2),
                "icd10": "I63.9",
                "calls": [
                    {"due_date": day + dt.timedelta(days=7), "status": S.COMPLETED, "answered_by": "family"},
                    {"due_date": day + dt.timedelta(days=30), **died},
                ],
            }
        ],
    )
    response = client_for(head_nurse).get(reverse("calls:dashboard_stay", args=[calls[0].discharge_id]))
    assert response.status_code == 200
    html = response.content.decode()
    outcome = re.search(r'id="stay-outcome">(.*?)</dd>', html, re.S).group(1)
    assert re.sub(r"\s+", " ", outcome).strip() == "Reached, Deceased · Family took part"
    assert response.context["age"] == 61  # one day before the 62nd birthday
    rows = re.findall(r'<tr id="call-(\d+)">', html)
    assert rows == [str(c.pk) for c in calls]


def test_lists_and_the_stay_page_refuse_other_roles_and_other_departments(client_for, head_nurse, db, request):
    other = DepartmentFactory(code="ONC")
    [calls] = bulk_stays(
        department=other, stays=[{"discharged_on": dt.date(2012, 6, 1), "calls": [{"due_date": dt.date(2012, 6, 8)}]}]
    )
    stay_url = reverse("calls:dashboard_stay", args=[calls[0].discharge_id])
    assert client_for(head_nurse).get(stay_url).status_code == 404
    response = client_for(head_nurse).get(reverse("calls:dashboard_patients"), {"department": other.pk})
    assert response.status_code == 400
    for role_user in ["nurse", "officer", "no_role_user", "admin_user"]:
        client = client_for(request.getfixturevalue(role_user))
        assert client.get(reverse("calls:dashboard_patients")).status_code == 403
        assert client.get(stay_url).status_code == 403


def test_patient_list_filters_refuse_hostile_values_in_plain_words(client_for, head_nurse, db):
    ward = DepartmentFactory(code="NEU")
    ward.staff.add(head_nurse)
    client = client_for(head_nurse)
    url = reverse("calls:dashboard_patients")
    response = client.get(url, {"icd10": "<script>alert(1)</script>" * 3})
    assert response.status_code == 400
    assert response.context["form"].errors == {"icd10": ["Ensure this value has at most 16 characters (it has 75)."]}
    assert "<script>alert(1)" not in response.content.decode()
    response = client.get(url, {"outcome": "everything", "chapter": "XXIII"})
    assert response.status_code == 400
    assert sorted(response.context["form"].errors) == ["chapter", "outcome"]
    assert client.get(url, {"icd10": "I10\x00"}).status_code == 400  # refused before any view
    # a code with markup in it is listed, escaped
    bulk_stays(department=ward, stays=[{"discharged_on": dt.date(2012, 6, 1), "icd10": "<b>I10"}])
    html = client.get(url, {"icd10": "<b>I10"}).content.decode()
    assert "&lt;b&gt;I10" in html
    assert "<b>I10" not in html


@pytest.mark.parametrize("count", [1, 3])
def test_patient_list_runs_a_fixed_number_of_queries(client_for, head_nurse, db, count, django_assert_num_queries):
    ward = DepartmentFactory(code="NEU")
    ward.staff.add(head_nurse)
    bulk_stays(
        department=ward,
        stays=[
            {"discharged_on": dt.date(2012, 6, 1), "calls": [{"due_date": dt.date(2012, 6, 8), "status": S.COMPLETED}]}
        ]
        * count,
    )
    client = client_for(head_nurse)
    # session, user, roles, count, page rows, department <select>, audit event, session save (3)
    with django_assert_num_queries(10):
        response = client.get(reverse("calls:dashboard_patients"), {"outcome": "reached"})
    assert len(response.context["page"].object_list) == count


def test_a_nurse_of_the_ward_cannot_read_the_patient_figures(client_for, db):
    nurse = UserFactory(username="lina", roles=[Role.NURSE])
    ward = DepartmentFactory(code="NEU")
    ward.staff.add(nurse)
    assert client_for(nurse).get(reverse("calls:dashboard"), {"format": "json"}).status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stay summary's triggers are PostgreSQL's")
def test_a_file_sized_insert_of_stays_holds_a_bounded_number_of_locks(db):
    """A file import writes thousands of stays in one transaction: the stay
    summary's triggers lock buckets of stays, not each stay (one lock a stay
    ran out of the server's lock table at 20,000 rows)."""
    from calls.dashboard.stay_summary import LOCK_BUCKETS, LOCK_NAMESPACE
    from tests.factories import DepartmentFactory, bulk_stays

    department = DepartmentFactory(code="LOCKS")
    bulk_stays(department=department, stays=[{"discharged_on": dt.date(2026, 11, 2), "calls": []}] * 500)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND pid = pg_backend_pid()",
            [LOCK_NAMESPACE],
        )
        (held,) = cursor.fetchone()
    assert 0 < held <= LOCK_BUCKETS
