"""The dashboard's figures arranged for people: the tables the page, the
print view and the CSV/XLSX export share, and the chart data."""

from django.utils.translation import gettext_lazy as _

from followup.figures import Rate

from .selectors import Dashboard


def _cell(value):
    if isinstance(value, Rate):
        return value.percent if value.percent is not None else str(_("too few"))
    return value


def dashboard_tables(d: Dashboard) -> list[tuple[str, list[str], list[list]]]:
    """The dashboard's tables as (title, headers, rows) for CSV and XLSX."""
    pct = "%"
    headline_rows = [
        [
            str(h.label),
            _cell(h.current),
            h.current.n if h.is_rate else "",
            _cell(h.previous),
            _cell(h.year_ago),
            h.change_previous,
            h.change_year,
        ]
        for h in d.headlines
    ]
    headline_rows.append([str(_("Red flags open")), d.alerts["open"], "", "", "", "", ""])
    tables = [
        (
            str(_("Headline figures")),
            [
                str(_("Figure")),
                f"{_('This period')} ({pct})",
                "n",
                f"{_('Previous period')} ({pct})",
                f"{_('A year earlier')} ({pct})",
                str(_("Change vs previous")),
                str(_("Change vs a year earlier")),
            ],
            headline_rows,
        ),
        (
            str(_("Overall satisfaction")),
            [str(_("Share")), pct, "n"],
            [[str(label), _cell(rate), rate.n] for label, rate in d.boxes],
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


def dashboard_chart_data(d: Dashboard) -> dict:
    """What static/js/dashboard.js draws (labels already translated)."""
    return {
        "weeks": {
            "labels": [
                f"{w['week'].isoformat()} ({_('so far')})" if w["in_progress"] else w["week"].isoformat()
                for w in d.weeks
            ],
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
            "labels": [str(label) for label, _rate in d.boxes],
            "data": [rate.percent for _label, rate in d.boxes],
        },
    }
