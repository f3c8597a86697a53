"""The dashboard's figures as JSON: ``manage.py dashboard_figures`` and the
page's ``?format=json`` (issue 18, item 2)."""

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, ManagementUtility, call_command
from django.urls import reverse

from tests.calls.cohorts import END, EXPECTED, START, build_cardiology
from tests.factories import DepartmentFactory

NOW = dt.datetime(2012, 7, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
KEYS = [
    "patients_discharged",
    "patients_reached",
    "patients_deceased",
    "patients_lost",
    "family_participations",
    "patients_satisfied",
    "calls_due",
    "calls_completed",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cardiology(head_nurse, officer, settings):
    settings.DASHBOARD_MIN_N = 10
    department = DepartmentFactory(code="CARD", name="心内科 Cardiology")
    department.staff.add(head_nurse)
    build_cardiology(department, received_by=officer)
    return department


def command_json(*args) -> dict:
    out = StringIO()
    call_command("dashboard_figures", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_the_cohorts_figures_under_stable_keys(cardiology):
    data = command_json("--department", "CARD", "--start", "2011-06-01", "--end", "2012-06-30")
    assert {key: data[key] for key in EXPECTED} == EXPECTED
    assert set(KEYS) <= set(data)
    assert data["departments"] == [{"code": "CARD", "name": "心内科 Cardiology"}]
    assert (data["start"], data["end"]) == ("2011-06-01", "2012-06-30")
    assert data["patients_satisfied_share"] == {"count": 885, "n": 962, "percent": 92.0}
    assert data["patients_reached_share"] == {"count": 962, "n": 1056, "percent": 91.1}
    assert data["family_share"] == {"count": 578, "n": 1924, "percent": 30.0}
    assert data["complaint_reasons"] == [
        {"category": "attitude", "complaints": 33, "patients": 32, "share": {"count": 32, "n": 1056, "percent": 3.0}},
        {"category": "doctor", "complaints": 21, "patients": 21, "share": {"count": 21, "n": 1056, "percent": 2.0}},
        {"category": "fees", "complaints": 21, "patients": 21, "share": {"count": 21, "n": 1056, "percent": 2.0}},
        {"category": "logistics", "complaints": 11, "patients": 11, "share": {"count": 11, "n": 1056, "percent": 1.0}},
    ]
    assert data["patients_by_sex"] == [
        {"sex": "M", "patients": 704, "reached": 642},
        {"sex": "F", "patients": 352, "reached": 320},
    ]
    assert data["complaints"] == 86


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_gives_the_same_json_as_the_command_in_every_language(client_for, head_nurse, cardiology, language):
    client = client_for(head_nurse)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    page = client.get(reverse("calls:dashboard"), {**PERIOD, "department": cardiology.pk, "format": "json"})
    assert page.status_code == 200
    assert page["Content-Type"] == "application/json"
    assert page.json() == command_json("--department", "CARD", "--start", START.isoformat(), "--end", END.isoformat())


def test_the_dashboard_links_to_its_json(client_for, head_nurse, cardiology):
    html = client_for(head_nurse).get(reverse("calls:dashboard"), PERIOD).content.decode()
    assert f'href="/calls/dashboard/?start={START}&amp;end={END}&amp;format=json" id="figures-json"' in html


def test_the_page_json_is_for_the_head_nurse_and_her_departments_only(client_for, head_nurse, nurse, cardiology):
    other = DepartmentFactory(code="ONC")
    response = client_for(head_nurse).get(reverse("calls:dashboard"), {"department": other.pk, "format": "json"})
    assert response.status_code == 400
    assert response.json() == {"error": "Select a valid choice. That choice is not one of the available choices."}
    assert client_for(nurse).get(reverse("calls:dashboard"), {"format": "json"}).status_code == 403
    bad = client_for(head_nurse).get(
        reverse("calls:dashboard"), {"start": "2012-06-30", "end": "2012-06-01", "format": "json"}
    )
    assert bad.json() == {"error": "The start date must be on or before the end date."}


def test_several_departments_add_up(head_nurse, db):
    from tests.factories import bulk_stays

    day = dt.date(2012, 6, 1)
    for code, n in [("A", 2), ("B", 3)]:
        bulk_stays(department=DepartmentFactory(code=code), stays=[{"discharged_on": day}] * n)
    data = command_json("--department", "A", "--department", "B", "--start", "2012-06-01", "--end", "2012-06-30")
    assert data["patients_discharged"] == 5
    assert [d["code"] for d in data["departments"]] == ["A", "B"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--department", "NOPE"], "Unknown department code: NOPE."),
        (["--department", "<script>"], "Unknown department code: <script>."),
        (
            ["--department", "CARD", "--start", "2012-13-01"],
            "--start '2012-13-01': Enter a valid date. Write it as YYYY-MM-DD.",
        ),
        (
            ["--department", "CARD", "--end", "yesterday"],
            "--end 'yesterday': Enter a valid date. Write it as YYYY-MM-DD.",
        ),
        (
            ["--department", "CARD", "--start", "2012-06-30", "--end", "2012-06-01"],
            "The start date must be on or before the end date.",
        ),
        (
            ["--department", "CARD", "--start", "2008-01-01", "--end", "2012-06-01"],
            "Choose a range of at most two years.",
        ),
    ],
)
def test_the_command_refuses_wrong_arguments_in_plain_words(db, args, message):
    DepartmentFactory(code="CARD")
    defaults = {"--start": "2012-06-01", "--end": "2012-06-30"}
    for option, value in defaults.items():
        if option not in args:
            args = [*args, option, value]
    with pytest.raises(CommandError) as error:
        call_command("dashboard_figures", *args)
    assert str(error.value) == message


def run_manage(*argv) -> int:
    """manage.py as a shell runs it (in this process, on the test database)."""
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", *argv]).execute()
    return exited.value.code


def test_a_wrong_argument_exits_non_zero_without_a_traceback(db, capsys):
    code = run_manage("dashboard_figures", "--department", "NOPE", "--start", "2012-06-01", "--end", "2012-06-30")
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == ["CommandError: Unknown department code: NOPE."]
    assert run_manage("dashboard_figures", "--start", "2012-06-01") == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].endswith("the following arguments are required: --department, --end")
    assert "Traceback" not in err
