"""The dashboard's self-report figures (docs/self-report.md): how the text
message channel compares with the phone for the calls due in a period.
The phone's figures are the period's totals less those of the calls
answered another way (few, found through a partial index): the dashboard
passes the totals it has already counted (on PostgreSQL from its summary),
so the section adds four small queries, not one over every call of the
period."""

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, Q

from followup.figures import Rate
from followup.prepared import Params

from ..models import ClinicalAlert, FollowUpCall, SelfReportLink

Status = FollowUpCall.Status
Channel = FollowUpCall.Channel
COMPLETED = Q(status=Status.COMPLETED)
COUNTABLE = ~Q(status=Status.CANCELLED) | Q(cancel_reason=FollowUpCall.CancelReason.DECEASED)
INVITED = Q(status__in=[SelfReportLink.Status.SENT, SelfReportLink.Status.DELIVERED])  # a link that went out


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    label: str
    completed: int
    reach: Rate  # completed / the calls this channel was tried on
    red_flags: Rate  # completed calls with a red-flag alert / completed
    satisfied: Rate  # "satisfied" / completed calls with an overall satisfaction


@dataclass(frozen=True)
class SelfReportFigures:
    invited: int  # links that went out
    answered: Rate  # answered on the form / links that went out
    median_hours: float | None  # from the message to the answers
    spared: Rate  # answered on the form with no nurse's call needed / calls due (countable)
    asked_for_call: int
    channels: list[ChannelFigures]

    @property
    def any(self) -> bool:
        return bool(self.invited or self.channels[1].completed)


NOT_PHONE = ~Q(channel=Channel.PHONE)  # the condition of the partial index call_not_phone_due_idx
RATED = COMPLETED & ~Q(satisfaction="")
SATISFIED = COMPLETED & Q(satisfaction=FollowUpCall.Satisfaction.SATISFIED)
FLAGGED = COMPLETED & Q(clinical_alert__isnull=False)
# The period's totals the phone's figures are taken from (every channel together).
TOTALS = {"countable": COUNTABLE, "completed": COMPLETED, "rated": RATED, "satisfied": SATISFIED}


def _counts(done: Q) -> dict[str, Q]:
    return {"done": done, "flags": done & FLAGGED, "rated": done & RATED, "satisfied": done & SATISFIED}


def self_report_figures(
    *, department_ids: list[int], period, totals: dict[str, int] | None = None
) -> SelfReportFigures:
    """The figures of the calls due in ``period`` in these departments.
    ``totals``: the period's calls counted over every channel (TOTALS'
    keys), as the dashboard has them; counted here otherwise."""
    # Built and compiled once, run with this view's values (followup/prepared.py).
    p = Params(department_ids=department_ids, start=period.start, end=period.end)

    def calls():
        return FollowUpCall.objects.filter(discharge__department__id__in=p["department_ids"]).filter(
            due_date__gte=p["start"], due_date__lte=p["end"]
        )

    if totals is None:
        totals = p.total(
            ("self_report", "totals"), calls, **{name: Count("pk", filter=q) for name, q in TOTALS.items()}
        )
    # completed calls with a red flag, every channel: from the alerts (a few per hundred calls)
    flagged = p.total(
        ("self_report", "flagged"),
        lambda: ClinicalAlert.objects.filter(call__in=calls().filter(COMPLETED).values("pk")),
        n=Count("*"),
    )["n"]
    form = COMPLETED & Q(channel=Channel.SELF_REPORT)
    n = p.total(
        ("self_report", "other_channels"),
        lambda: calls().filter(NOT_PHONE),
        **{f"other_{key}": Count("pk", filter=q) for key, q in _counts(COMPLETED).items()},
        **{f"form_{key}": Count("pk", filter=q) for key, q in _counts(form).items()},
        spared=Count("pk", filter=form & Q(self_report__callback_call__isnull=True)),
    )
    links = p.total(
        ("self_report", "links"),
        lambda: SelfReportLink.objects.filter(call__in=calls().values("pk")),
        invited=Count("pk", filter=INVITED),
        asked=Count("pk", filter=Q(call_me_at__isnull=False)),
    )
    # every channel but the phone taken from the totals leaves the phone's
    phone = {
        "done": totals["completed"] - n["other_done"],
        "flags": flagged - n["other_flags"],
        "rated": totals["rated"] - n["other_rated"],
        "satisfied": totals["satisfied"] - n["other_satisfied"],
    }
    times = p.rows(
        ("self_report", "times"),
        lambda: (
            calls()
            .filter(NOT_PHONE, form, self_report__sent_at__isnull=False)
            .values("self_report__sent_at", "self_report__answered_at")
        ),
    )
    hours = [
        (row["self_report__answered_at"] - row["self_report__sent_at"]) / dt.timedelta(hours=1)
        for row in times
        if row["self_report__answered_at"] and row["self_report__sent_at"]
    ]
    channels = [
        ChannelFigures(
            channel=Channel.PHONE.value,
            label=str(Channel.PHONE.label),
            completed=phone["done"],
            reach=Rate(phone["done"], max(totals["countable"] - n["form_done"], 0)),
            red_flags=Rate(phone["flags"], phone["done"]),
            satisfied=Rate(phone["satisfied"], phone["rated"]),
        ),
        ChannelFigures(
            channel=Channel.SELF_REPORT.value,
            label=str(Channel.SELF_REPORT.label),
            completed=n["form_done"],
            reach=Rate(n["form_done"], links["invited"]),
            red_flags=Rate(n["form_flags"], n["form_done"]),
            satisfied=Rate(n["form_satisfied"], n["form_rated"]),
        ),
    ]
    return SelfReportFigures(
        invited=links["invited"],
        answered=Rate(n["form_done"], links["invited"]),
        median_hours=round(statistics.median(hours), 1) if hours else None,
        spared=Rate(n["spared"], totals["countable"]),
        asked_for_call=links["asked"],
        channels=channels,
    )
