import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from calls.models import ClinicalAlert, FollowUpCall, SpotCheck
from followup.roles import Role
from tests.factories import DepartmentFactory, SatisfactionItemFactory, UserFactory, bulk_calls
from tests.pagination import Pager, pager

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
S = FollowUpCall.Status
URLS = [
    "calls:dashboard",
    "calls:dashboard_export_csv",
    "calls:dashboard_export_xlsx",
    "calls:spot_checks",
    "calls:dashboard_calls",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def ward(head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(head_nurse)
    return department


def completed(day, **extra):
    return {"due_date": day, "status": S.COMPLETED, "completed_at": TODAY, **extra}


def cells(html: str, figure: str) -> dict[str, str]:
    row = re.search(rf'<tr data-figure="{figure}">(.*?)</tr>', html, re.S).group(1)
    return {
        name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip()
        for name, value in re.findall(r'data-cell="([\w-]+)">(.*?)</td>', row, re.S)
    }


@pytest.mark.parametrize("url_name", URLS)
@pytest.mark.parametrize("role_user", ["nurse", "officer", "no_role_user", "admin_user"])
def test_dashboard_pages_refuse_other_roles(client_for, request, url_name, role_user):
    user = request.getfixturevalue(role_user)
    assert client_for(user).get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", URLS)
def test_dashboard_pages_send_anonymous_visitors_to_log_in(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_filter_defaults_to_the_last_four_weeks_in_the_hospital_time_zone(client_for, head_nurse, ward):
    response = client_for(head_nurse).get(reverse("calls:dashboard"))
    assert response.status_code == 200
    period = response.context["figures"].period
    assert (period.start, period.end) == (dt.date(2026, 10, 30), dt.date(2026, 11, 26))


def test_figures_count_only_the_head_nurses_departments(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ONC")
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 3)
    bulk_calls(department=other, rows=[completed(dt.date(2026, 11, 20))] * 5)
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "due")["current"] == "3"
    assert cells(html, "completed")["current"] == "3"


def test_department_filter_refuses_a_department_she_is_not_staff_of(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ONC")
    response = client_for(head_nurse).get(reverse("calls:dashboard"), {"department": other.pk})
    assert response.status_code == 400
    assert response.context["figures"] is None
    assert list(response.context["form"].errors) == ["department"]


def test_department_filter_narrows_to_one_of_her_departments(client_for, head_nurse, ward):
    second = DepartmentFactory(code="NEU")
    second.staff.add(head_nurse)
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 3)
    bulk_calls(department=second, rows=[completed(dt.date(2026, 11, 20))] * 2)
    client = client_for(head_nurse)
    assert cells(client.get(reverse("calls:dashboard")).content.decode(), "due")["current"] == "5"
    html = client.get(reverse("calls:dashboard"), {"department": second.pk}).content.decode()
    assert cells(html, "due")["current"] == "2"


def test_department_filter_refuses_a_department_not_hers(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ORT")
    bulk_calls(department=other, rows=[completed(dt.date(2026, 11, 20))] * 2)
    client = client_for(head_nurse)
    for value in (other.pk, "x"):
        response = client.get(reverse("calls:dashboard"), {"department": value})
        assert response.status_code == 400
        assert response.context["form"].errors == {
            "department": ["Select a valid choice. That choice is not one of the available choices."]
        }
    options = re.findall(r'<option value="(\d*)"', client.get(reverse("calls:dashboard")).content.decode())
    assert options == ["", str(ward.pk)]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-20", "2026-11-01", "The start date must be on or before the end date."),
        ("2024-01-01", "2026-11-01", "Choose a range of at most two years."),
    ],
)
def test_filter_explains_a_bad_range_in_plain_words(client_for, head_nurse, ward, start, end, message):
    response = client_for(head_nurse).get(reverse("calls:dashboard"), {"start": start, "end": end})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [message]


def test_a_two_year_range_is_accepted(client_for, head_nurse, ward):
    response = client_for(head_nurse).get(reverse("calls:dashboard"), {"start": "2024-11-26", "end": "2026-11-26"})
    assert response.status_code == 200


def test_rate_below_the_minimum_n_shows_too_few(client_for, head_nurse, ward, settings):
    settings.DASHBOARD_MIN_N = 10
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20), satisfaction="satisfied")] * 9)
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "reach")["current"] == "too few"
    assert cells(html, "reach")["n"] == "n = 9"
    settings.DASHBOARD_MIN_N = 9
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "reach")["current"] == "100.0%"


def test_reach_rate_excludes_calls_cancelled_for_other_reasons_than_death(client_for, head_nurse, ward, settings):
    settings.DASHBOARD_MIN_N = 1
    day = dt.date(2026, 11, 20)
    bulk_calls(
        department=ward,
        rows=[
            completed(day),
            completed(day),
            completed(day),
            {"due_date": day, "status": S.UNREACHABLE},
            {"due_date": day, "status": S.CANCELLED, "cancel_reason": "deceased"},
            {"due_date": day, "status": S.CANCELLED, "cancel_reason": "declined"},
            {"due_date": day, "status": S.CANCELLED, "cancel_reason": "readmitted"},
        ],
    )
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "due")["current"] == "7"
    assert cells(html, "reach") == {
        "current": "60.0%",
        "count": "3",
        "n": "n = 5",
        "previous": "too few (n = 0)",
        "change-previous": "–",
        "year": "too few (n = 0)",
        "change-year": "–",
    }
    assert cells(html, "unreachable")["current"] == "1"
    assert cells(html, "deceased")["current"] == "1"


def test_headlines_compare_with_the_previous_period_and_a_year_earlier(client_for, head_nurse, ward, settings):
    settings.DASHBOARD_MIN_N = 1
    rows = (
        [completed(dt.date(2026, 11, 20), satisfaction="satisfied")] * 3
        + [completed(dt.date(2026, 11, 20), satisfaction="unsatisfied")]
        + [completed(dt.date(2026, 10, 20), satisfaction="satisfied")] * 2
        + [completed(dt.date(2025, 11, 20), satisfaction="unsatisfied")]
        + [completed(dt.date(2025, 11, 21), satisfaction="satisfied")]
    )
    bulk_calls(department=ward, rows=rows)
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "satisfied") == {
        "current": "75.0%",
        "count": "3",
        "n": "n = 4",
        "previous": "100.0% (n = 2)",
        "change-previous": "-25.0 pp",
        "year": "50.0% (n = 2)",
        "change-year": "+25.0 pp",
    }
    assert cells(html, "completed") == {
        "current": "4",
        "count": "4",
        "n": "",
        "previous": "2",
        "change-previous": "+2",
        "year": "2",
        "change-year": "+2",
    }


def test_nurse_table_counts_assigned_completed_overdue_duration_and_satisfaction(
    client_for, head_nurse, ward, settings
):
    settings.DASHBOARD_MIN_N = 1
    alice = UserFactory(username="alice", display_name="Alice Wang", roles=[Role.NURSE])
    day = dt.date(2026, 11, 20)
    bulk_calls(
        department=ward,
        rows=[
            completed(day, assigned_to=alice, duration_seconds=300, satisfaction="satisfied"),
            completed(day, assigned_to=alice, duration_seconds=600, satisfaction="basic"),
            {"due_date": day, "status": S.SCHEDULED, "assigned_to": alice},
            {"due_date": dt.date(2026, 11, 30), "status": S.SCHEDULED, "assigned_to": alice},
        ],
    )
    response = client_for(head_nurse).get(reverse("calls:dashboard"), {"start": "2026-11-01", "end": "2026-11-30"})
    [row] = response.context["figures"].nurses
    assert (row["name"], row["assigned"], row["completed"], row["overdue"], row["average_minutes"]) == (
        "Alice Wang",
        4,
        2,
        1,
        7.5,
    )
    assert row["satisfaction"].percent == 50.0
    assert f"nurse={alice.pk}&amp;status=completed" in response.content.decode()


def test_each_figure_links_to_the_calls_behind_it_with_the_same_filters(client_for, head_nurse, ward):
    html = (
        client_for(head_nurse)
        .get(reverse("calls:dashboard"), {"start": "2026-11-01", "end": "2026-11-26", "department": ward.pk})
        .content.decode()
    )
    row = re.search(r'<tr data-figure="unreachable">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'href="([^"]+)"', row).group(1) == (
        f"/calls/dashboard/calls/?due_from=2026-11-01&amp;due_to=2026-11-26&amp;department={ward.pk}&amp;status=unreachable"
    )


def test_item_scores_show_average_and_boxes(client_for, head_nurse, ward, settings):
    from calls.models import ItemScore

    settings.DASHBOARD_MIN_N = 1
    attitude = SatisfactionItemFactory(code="attitude", name="Nursing attitude", name_zh="护理态度", order=1)
    calls = bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 4)
    ItemScore.objects.bulk_create(
        [ItemScore(call=c, item=attitude, score=s) for c, s in zip(calls, [10, 9, 8, 3], strict=True)]
    )
    figures = client_for(head_nurse).get(reverse("calls:dashboard")).context["figures"]
    [row] = figures.items
    assert (row["label"], row["average"], row["n"]) == ("Nursing attitude", 7.5, 4)
    assert [row[f"{b}_rate"].percent for b in ("top", "middle", "bottom")] == [50.0, 25.0, 25.0]


def test_red_flags_open_counts_unresolved_alerts_of_her_departments(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ONC")
    mine = bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 2)
    theirs = bulk_calls(department=other, rows=[completed(dt.date(2026, 11, 20))])
    now = TODAY
    ClinicalAlert.objects.bulk_create(
        [
            ClinicalAlert(call=mine[0], raised_at=now, due_at=now - dt.timedelta(hours=1), reason="chest pain"),
            ClinicalAlert(call=mine[1], raised_at=now, due_at=now, reason="x", resolved_at=now),
            ClinicalAlert(call=theirs[0], raised_at=now, due_at=now, reason="y"),
        ]
    )
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert cells(html, "red_flags")["current"] == "1"


def test_spot_check_coverage_on_the_dashboard(client_for, head_nurse, ward, settings):
    settings.DASHBOARD_MIN_N = 1
    calls = bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 4)
    SpotCheck.objects.create(call=calls[0], week=dt.date(2026, 11, 16), sampled_at=TODAY)
    SpotCheck.objects.create(
        call=calls[1],
        week=dt.date(2026, 11, 16),
        sampled_at=TODAY,
        verdict="good",
        reviewed_at=TODAY,
        reviewer=head_nurse,
    )
    spot = client_for(head_nurse).get(reverse("calls:dashboard")).context["figures"].spot_checks
    assert (spot["completed"], spot["sampled"], spot["reviewed"], spot["good"]) == (4, 2, 1, 1)
    assert (spot["coverage"].percent, spot["reviewed_rate"].percent) == (50.0, 50.0)


def _mixed_rows(count: int) -> list[dict]:
    alice = UserFactory(username="alice", roles=[Role.NURSE])
    shapes = [
        completed(dt.date(2026, 11, 20), assigned_to=alice, satisfaction="satisfied", duration_seconds=400),
        {"due_date": dt.date(2026, 11, 10), "status": S.UNREACHABLE, "assigned_to": alice},
        {"due_date": dt.date(2026, 11, 3), "status": S.SCHEDULED},
    ]
    return [shapes[i % 3] for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 60])
def test_dashboard_runs_the_same_number_of_queries_whatever_the_data(
    client_for, head_nurse, ward, count, django_assert_num_queries
):
    SatisfactionItemFactory(code="attitude")
    bulk_calls(department=ward, rows=_mixed_rows(count))
    client = client_for(head_nurse)
    with django_assert_num_queries(QUERIES):
        assert client.get(reverse("calls:dashboard")).status_code == 200


# session, user, roles, departments (read once: the <select> and the figures), headline
# counts (three periods), items, item totals, weeks, nurses, alerts, spot checks, complaint
# categories, complaint counts, their outcome measures, patients (stays per combination),
# complaint reasons, the self-report counts (calls not by phone, links, red flags) and
# response times, audit event, then the session save (savepoint, update, release)
QUERIES = 24


def test_chart_data_is_embedded_as_json_without_inline_script(client_for, head_nurse, ward):
    html = client_for(head_nurse).get(reverse("calls:dashboard")).content.decode()
    assert '<script id="dashboard-data" type="application/json">' in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "style=" not in html


def test_the_week_in_progress_is_marked_so_far_in_the_table_and_the_chart(client_for, head_nurse, ward):
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 17)), completed(dt.date(2026, 11, 24))])
    response = client_for(head_nurse).get(reverse("calls:dashboard"))
    weeks = re.findall(
        r"<th scope=\"row\"><a [^>]*>(\d{4}-\d\d-\d\d)</a>( <span[^>]*>so far</span>)?</th>", response.content.decode()
    )
    assert [(week, bool(marker)) for week, marker in weeks] == [("2026-11-16", False), ("2026-11-23", True)]
    assert response.context["chart_data"]["weeks"]["labels"] == ["2026-11-16", "2026-11-23 (so far)"]
    assert response.context["chart_data"]["weeks"]["partial"] == [False, True]
    csv_text = client_for(head_nurse).get(reverse("calls:dashboard_export_csv")).content.decode("utf-8-sig")
    weekly = csv_text.split("Weekly trend\r\n")[1].split("\r\n\r\n")[0].splitlines()
    assert [(row.split(",")[0], row.split(",")[-1]) for row in weekly[1:]] == [
        ("2026-11-16", ""),
        ("2026-11-23", "so far"),
    ]


def test_dashboard_speaks_chinese(client_for, head_nurse, ward):
    client = client_for(head_nurse)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("calls:dashboard")).content.decode()
    assert "满意度仪表板" in html
    assert "回访成功率" in html


def test_calls_behind_a_figure_are_her_departments_filtered_by_the_link(client_for, head_nurse, ward):
    other = DepartmentFactory(code="ONC")
    alice = UserFactory(username="alice", roles=[Role.NURSE])
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20), assigned_to=alice)] * 2)
    bulk_calls(department=ward, rows=[{"due_date": dt.date(2026, 11, 20), "status": S.UNREACHABLE}])
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 10, 20), assigned_to=alice)])
    bulk_calls(department=other, rows=[completed(dt.date(2026, 11, 20), assigned_to=alice)] * 4)
    client = client_for(head_nurse)
    url = reverse("calls:dashboard_calls")
    count = lambda **params: client.get(url, params).context["page"].paginator.count  # noqa: E731
    assert count() == 4
    assert count(status="completed", due_from="2026-11-01", due_to="2026-11-26") == 2
    assert count(status="unreachable") == 1
    assert count(nurse=alice.pk, due_from="2026-11-01") == 2
    assert client.get(url, {"department": other.pk}).context["form"].errors == {
        "department": ["Select a valid choice. That choice is not one of the available choices."]
    }


def test_calls_behind_a_figure_page_by_50_keeping_the_filters(client_for, head_nurse, ward):
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * 51)
    bulk_calls(department=ward, rows=[{"due_date": dt.date(2026, 11, 20), "status": S.UNREACHABLE}] * 3)
    client = client_for(head_nurse)
    url = reverse("calls:dashboard_calls")
    query = f"department={ward.pk}&status=completed&due_from=2026-11-01"

    first = client.get(f"{url}?{query}")
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": f"?{query}&page=2"})

    second = client.get(url + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": f"?{query}&page=1"})
    assert [c.status for c in second.context["page"].object_list] == [S.COMPLETED]


@pytest.mark.parametrize("count", [1, 3])
def test_calls_behind_a_figure_run_a_fixed_number_of_queries(
    client_for, head_nurse, ward, count, django_assert_num_queries
):
    bulk_calls(department=ward, rows=[completed(dt.date(2026, 11, 20))] * count)
    client = client_for(head_nurse)
    # session, user, roles, count, page rows, department <select>, audit event, session save (3)
    with django_assert_num_queries(QUERIES_CALL_LIST):
        response = client.get(reverse("calls:dashboard_calls"))
    assert len(response.context["page"].object_list) == count


QUERIES_CALL_LIST = 10


def test_every_call_condition_counts_what_the_database_filter_counts(ward):
    # The headline counts add up the calls per combination of status, cancel reason, who
    # answered and satisfaction, each combination to the conditions it meets: the same
    # calls the database finds with each condition, for every combination the desk records.
    from calls.dashboard.selectors import CALL_CONDITIONS, Period, dashboard_figures

    day = TODAY.date() - dt.timedelta(days=1)
    FC = FollowUpCall
    rows = [{"due_date": day, "status": status} for status in (S.SCHEDULED, S.UNREACHABLE)]
    rows += [
        {"due_date": day, "status": S.CANCELLED, "cancel_reason": reason}
        for reason in (FC.CancelReason.DECEASED, FC.CancelReason.DECLINED, "")
    ]
    rows += [
        completed(day, answered_by=by, satisfaction=satisfaction)
        for by in FC.AnsweredBy.values
        for satisfaction in ["", *FC.Satisfaction.values]
    ]
    bulk_calls(department=ward, rows=rows)
    calls = FollowUpCall.objects.filter(discharge__department=ward)

    counts = dashboard_figures(department_ids=[ward.pk], period=Period(day, day), today=TODAY.date()).counts

    assert counts == {key: calls.filter(condition).count() for key, condition in CALL_CONDITIONS.items()}
    assert counts["due"] == len(rows) and counts["family"] > 0 and counts["countable"] == len(rows) - 2
