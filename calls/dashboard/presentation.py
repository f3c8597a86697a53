"""The dashboard's figures arranged for people and machines: the tables the
page, the print view and the CSV/XLSX export share, the chart data, the
export's file name, and the figures as JSON (the page's ``?format=json`` and
``manage.py dashboard_figures --json``)."""

import re

from django.utils.translation import gettext_lazy as _

from followup.figures import Rate, min_n

from ..templatetags.dashboard import percent
from .outcomes import outcome_figures
from .selectors import Dashboard


def _cell(value):
    if isinstance(value, Rate):
        return value.percent if value.percent is not None else str(_("too few"))
    return value


def departments_label(d: Dashboard) -> str:
    return ", ".join(dept.name for dept in d.departments)


def export_filename(d: Dashboard, fmt: str) -> str:
    """dashboard-<department codes>-<first day>-<last day>.<fmt>, in ASCII
    letters, digits and dashes only (a code with none of them is named by
    its id; more than three departments by their number)."""
    if len(d.departments) > 3:
        scope = f"{len(d.departments)}-departments"
    else:
        scope = "-".join(
            re.sub(r"[^A-Za-z0-9]+", "", dept.code)[:20] or f"department{dept.pk}" for dept in d.departments
        )
    parts = ["dashboard", scope, f"{d.period.start:%Y%m%d}", f"{d.period.end:%Y%m%d}"]
    return "-".join(part for part in parts if part) + f".{fmt}"


def dashboard_tables(d: Dashboard) -> list[tuple[str, list[str], list[list]]]:
    """The dashboard's tables as (title, headers, rows) for CSV and XLSX."""
    pct = "%"
    headline_rows = [
        [
            str(h.label),
            _cell(h.current),
            h.count,
            h.current.n if h.is_rate else "",
            _cell(h.previous),
            _cell(h.year_ago),
            h.change_previous,
            h.change_year,
        ]
        for h in d.headlines
    ]
    headline_rows.append([str(_("Red flags open")), d.alerts["open"], d.alerts["open"], "", "", "", "", ""])
    p = d.patients
    tables = [
        (
            str(_("Dashboard")),
            [str(_("Departments")), str(_("From")), str(_("To")), str(_("Days"))],
            [[departments_label(d), d.period.start.isoformat(), d.period.end.isoformat(), d.period.days]],
        ),
        (
            str(_("Headline figures")),
            [
                str(_("Figure")),
                f"{_('This period')} ({pct})",
                str(_("Count")),
                "n",
                f"{_('Previous period')} ({pct})",
                f"{_('A year earlier')} ({pct})",
                str(_("Change vs previous")),
                str(_("Change vs a year earlier")),
            ],
            headline_rows,
        ),
        (
            str(_("Patients")),
            [str(_("Figure")), str(_("Patients")), pct, "n"],
            [[str(f.label), f.count, _cell(f.rate) if f.rate else "", f.rate.n if f.rate else ""] for f in p.headlines],
        ),
        *(
            (
                str(title),
                [str(_("Group")), str(_("Patients")), f"{_('Share of patients')} ({pct})", "n", str(_("Reached"))],
                [[r["label"], r["patients"], _cell(r["rate"]), r["rate"].n, r["reached"]] for r in p_rows],
            )
            for title, p_rows in patient_breakdowns(d)
        ),
        (
            str(_("Complaint reasons")),
            [str(_("Category")), str(_("Complaints")), str(_("Patients")), f"{_('Share of patients')} ({pct})", "n"],
            [[r["label"], r["complaints"], r["stays"], _cell(r["rate"]), r["rate"].n] for r in p.complaint_reasons],
        ),
        (
            str(_("Overall satisfaction")),
            [str(_("Share")), pct, "n"],
            [[str(label), _cell(rate), rate.n] for label, rate, _query in d.boxes],
        ),
        (
            str(_("Item scores")),
            [
                str(_("Item")),
                str(_("Average score")),
                "n",
                f"{_('Top box 9-10')} ({pct})",
                f"{_('Middle 7-8')} ({pct})",
                f"{_('Bottom box 1-6')} ({pct})",
            ],
            [
                [
                    row.get("label", str(_("All items"))),
                    row["average"],
                    row["n"],
                    _cell(row["top_rate"]),
                    _cell(row["middle_rate"]),
                    _cell(row["bottom_rate"]),
                ]
                for row in [*d.items, d.items_total]
            ],
        ),
        (
            str(_("Weekly trend")),
            [
                str(_("Week of")),
                str(_("Calls due")),
                str(_("Completed")),
                f"{_('Reach rate')} ({pct})",
                "n",
                f"{_('Satisfied')} ({pct})",
                "n",
                str(_("Note")),
            ],
            [
                [
                    w["week"].isoformat(),
                    w["due"],
                    w["completed"],
                    _cell(w["reach"]),
                    w["reach"].n,
                    _cell(w["satisfaction"]),
                    w["satisfaction"].n,
                    str(_("so far")) if w["in_progress"] else "",
                ]
                for w in d.weeks
            ],
        ),
        (
            str(_("Nurses")),
            [
                str(_("Nurse")),
                str(_("Assigned")),
                str(_("Completed")),
                str(_("Overdue")),
                str(_("Average duration (minutes)")),
                f"{_('Satisfied')} ({pct})",
                "n",
            ],
            [
                [
                    r["name"] or str(_("Unassigned")),
                    r["assigned"],
                    r["completed"],
                    r["overdue"],
                    r["average_minutes"],
                    _cell(r["satisfaction"]),
                    r["satisfaction"].n,
                ]
                for r in d.nurses
            ],
        ),
        (
            str(_("Spot checks")),
            [str(_("Figure")), str(_("Count")), pct, "n"],
            [
                [
                    str(_("Sampled of completed")),
                    d.spot_checks["sampled"],
                    _cell(d.spot_checks["coverage"]),
                    d.spot_checks["completed"],
                ],
                [
                    str(_("Reviewed of sampled")),
                    d.spot_checks["reviewed"],
                    _cell(d.spot_checks["reviewed_rate"]),
                    d.spot_checks["sampled"],
                ],
                [
                    str(_("Good of reviewed")),
                    d.spot_checks["good"],
                    _cell(d.spot_checks["good_rate"]),
                    d.spot_checks["reviewed"],
                ],
            ],
        ),
    ]
    c = d.complaints
    for key, title in COMPLAINT_GROUPS:
        tables.append(
            (
                str(title),
                [str(_("Group")), str(_("Complaints")), pct, "n"],
                [[str(r["label"]), r["n"], _cell(r["rate"]), r["rate"].n] for r in c[key]],
            )
        )
    tables.append(
        (
            str(_("Complaint SLA")),
            [str(_("Figure")), str(_("In time")), pct, "n"],
            [
                [
                    str(_("First response in time")),
                    c["first_response"].num,
                    _cell(c["first_response"]),
                    c["first_response"].n,
                ],
                [str(_("Resolved in time")), c["resolution"].num, _cell(c["resolution"]), c["resolution"].n],
            ],
        )
    )
    return tables


COMPLAINT_GROUPS = [
    ("by_category", _("Complaints by category")),
    ("by_severity", _("Complaints by severity")),
    ("by_status", _("Complaints by status")),
    ("by_outcome", _("Complaints by outcome")),
]


def patient_breakdowns(d: Dashboard) -> list[tuple[str, list[dict]]]:
    p = d.patients
    return [
        (_("Patients by sex"), p.by_sex),
        (_("Patients by age at discharge"), p.by_age_band),
        (_("Patients by ICD-10 chapter"), p.by_chapter),
        (_("Patients by ICD-10 code"), p.by_icd10),
    ]


def _share(rate: Rate) -> dict:
    return {"count": rate.num, "n": rate.n, "percent": rate.percent}


def figures_json(d: Dashboard) -> dict:
    """Every headline figure under stable keys (docs/dashboard.md, "Figures
    as JSON"): what hospitals report upward. Codes, never translated labels,
    so the same figures give the same JSON in every language."""
    c, p, s, k = d.counts, d.patients, d.spot_checks, d.complaints
    calls = {h.key: h.current for h in d.headlines}
    return {
        "departments": [{"code": dept.code, "name": dept.name} for dept in d.departments],
        "start": d.period.start.isoformat(),
        "end": d.period.end.isoformat(),
        "min_n": min_n(),
        "calls_due": c["due"],
        "calls_completed": c["completed"],
        "calls_unreachable": c["unreachable"],
        "calls_deceased": c["deceased"],
        "calls_reach_denominator": c["countable"],
        "calls_rated": c["rated"],
        "calls_satisfied": c["satisfied"],
        "calls_basically_satisfied": c["basic"],
        "calls_unsatisfied": c["unsatisfied"],
        "family_participations": c["family"],
        "calls_with_patient_and_family": c["patient_and_family"],
        "reach_rate": _share(calls["reach"]),
        "family_share": _share(calls["family"]),
        "calls_satisfied_share": _share(calls["satisfied"]),
        "calls_satisfied_or_basic_share": _share(calls["satisfied_or_basic"]),
        **{f.key: f.count for f in p.headlines},
        "patients_rated": p.rated,
        **{f"{f.key}_share": _share(f.rate) for f in p.headlines if f.rate is not None},
        "patients_by_sex": [{"sex": r["value"], "patients": r["patients"], "reached": r["reached"]} for r in p.by_sex],
        "patients_by_age_band": [
            {"age_band": r["value"], "patients": r["patients"], "reached": r["reached"]} for r in p.by_age_band
        ],
        "patients_by_icd10_chapter": [
            {"chapter": r["value"], "patients": r["patients"], "reached": r["reached"]} for r in p.by_chapter
        ],
        "patients_by_icd10": [
            {"code": r["value"], "patients": r["patients"], "reached": r["reached"]} for r in p.by_icd10
        ],
        "complaint_reasons": [
            {"category": r["code"], "complaints": r["complaints"], "patients": r["stays"], "share": _share(r["rate"])}
            for r in p.complaint_reasons
        ],
        # The outcome ledger (docs/outcomes.md): discharges of the period whose 31 days have passed.
        **outcome_figures(department_ids=d.department_ids, start=d.period.start, end=d.period.end, today=d.today),
        "red_flags_open": d.alerts["open"],
        "red_flags_overdue": d.alerts["overdue"],
        "spot_checks_sampled": s["sampled"],
        "spot_checks_reviewed": s["reviewed"],
        "spot_checks_good": s["good"],
        "spot_checks_needs_improvement": s["needs_improvement"],
        "complaints": k["total"],
        "complaints_first_response_in_time": _share(k["first_response"]),
        "complaints_resolved_in_time": _share(k["resolution"]),
        "complaints_by_category": {r["code"]: r["n"] for r in k["by_category"]},
        "complaints_by_severity": {r["value"]: r["n"] for r in k["by_severity"]},
        "complaints_by_status": {r["value"]: r["n"] for r in k["by_status"]},
        "complaints_by_outcome": {r["value"]: r["n"] for r in k["by_outcome"]},
        "complaints_with_outcome": k["outcome_base"],
        "complaints_without_outcome": k["outcome_pending"],
    }


def dashboard_chart_data(d: Dashboard) -> dict:
    """What static/js/dashboard.js draws (labels already translated)."""
    return {
        "weeks": {
            "labels": [
                f"{w['week'].isoformat()} ({_('so far')})" if w["in_progress"] else w["week"].isoformat()
                for w in d.weeks
            ],
            # The week holding today is not over: drawn dashed, its point hollow.
            "partial": [w["in_progress"] for w in d.weeks],
            "series": [
                {"label": str(_("Reach rate")), "data": [w["reach"].percent for w in d.weeks]},
                {"label": str(_("Satisfied")), "data": [w["satisfaction"].percent for w in d.weeks]},
                {
                    "label": str(_("Satisfied or basically satisfied")),
                    "data": [w["satisfied_or_basic"].percent for w in d.weeks],
                },
            ],
            # xgettext:no-python-format
            "axis": str(_("% of calls")),
        },
        "items": {
            "labels": [row["label"] for row in d.items],
            "series": [{"label": str(_("Average score")), "data": [row["average"] for row in d.items]}],
            "axis": str(_("Score (1-10)")),
        },
        "complaints": {
            "labels": [str(r["label"]) for r in d.complaints["by_category"]],
            "data": [r["n"] for r in d.complaints["by_category"]],
            "label": str(_("Complaints")),
        },
        "boxes": {
            "labels": [str(label) for label, _rate, _query in d.boxes],
            "data": [rate.percent for _label, rate, _query in d.boxes],
        },
    }


# --- the page's longer tables, their cells formatted once ------------------------------------
# A template filter, a method call or a nested lookup per cell cost some 80 µs a row
# (a year has 53 weeks): the rows below hold what the cells print.


def week_rows(d: Dashboard, *, worklist_url: str, department_id: int | None) -> list[dict]:
    department = f"&department={department_id}" if department_id else ""
    return [
        {
            "href": f"{worklist_url}?due_from={w['week'].isoformat()}&due_to={w['week_end'].isoformat()}{department}",
            "week": w["week"].isoformat(),
            "in_progress": w["in_progress"],
            "due": w["due"],
            "completed": w["completed"],
            "reach": percent(w["reach"]),
            "reach_n": w["reach"].n,
            "satisfied": percent(w["satisfaction"]),
            "satisfied_or_basic": percent(w["satisfied_or_basic"]),
            "rated": w["satisfaction"].n,
        }
        for w in d.weeks
    ]


def nurse_rows(d: Dashboard, *, worklist_url: str, list_query: str) -> list[dict]:
    """A nurse's link (None for the unassigned calls) lists her calls."""
    return [
        {
            "href": f"{worklist_url}?{list_query}&nurse={r['assigned_to']}" if r["assigned_to"] else None,
            "name": r["name"],
            "assigned": r["assigned"],
            "completed": r["completed"],
            "overdue": r["overdue"],
            "minutes": "–" if r["average_minutes"] is None else r["average_minutes"],
            "satisfied": percent(r["satisfaction"]),
            "rated": r["satisfaction"].n,
        }
        for r in d.nurses
    ]


def complaint_group_rows(d: Dashboard, *, complaints_url: str, complaint_query: str) -> list[tuple[list[dict], str]]:
    """(rows, title) of each COMPLAINT_GROUPS table; a row links to its complaints."""
    return [
        (
            [
                {
                    "href": f"{complaints_url}?{complaint_query}&{r['param']}={r['value']}",
                    "label": r["label"],
                    "n": r["n"],
                    "share": percent(r["rate"]),
                    "base": r["rate"].n,
                }
                for r in d.complaints[key]
            ],
            title,
        )
        for key, title in COMPLAINT_GROUPS
    ]
