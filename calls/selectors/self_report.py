"""The dashboard's self-report figures (docs/self-report.md): how the text
message channel compares with the phone for the calls due in a period.
One aggregate query for the counts and one for the response times."""

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, Q

from followup.figures import Rate

from ..models import FollowUpCall, SelfReportLink

Status = FollowUpCall.Status
Channel = FollowUpCall.Channel
COMPLETED = Q(status=Status.COMPLETED)
COUNTABLE = ~Q(status=Status.CANCELLED) | Q(cancel_reason=FollowUpCall.CancelReason.DECEASED)
INVITED = Q(self_report__status__in=[SelfReportLink.Status.SENT, SelfReportLink.Status.DELIVERED])


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


def _per_channel(channel: str) -> dict[str, Q]:
    done = COMPLETED & Q(channel=channel)
    return {
        f"{channel}_done": done,
        f"{channel}_flags": done & Q(clinical_alert__isnull=False),
        f"{channel}_rated": done & ~Q(satisfaction=""),
        f"{channel}_satisfied": done & Q(satisfaction=FollowUpCall.Satisfaction.SATISFIED),
    }


def self_report_figures(*, department_ids: list[int], period) -> SelfReportFigures:
    """The figures of the calls due in ``period`` in these departments."""
    calls = FollowUpCall.objects.filter(discharge__department_id__in=department_ids).filter(period.q)
    conditions = {
        "countable": COUNTABLE,
        "invited": INVITED,
        "asked": Q(self_report__call_me_at__isnull=False),
        "spared": COMPLETED & Q(channel=Channel.SELF_REPORT, self_report__callback_call__isnull=True),
        **_per_channel(Channel.PHONE),
        **_per_channel(Channel.SELF_REPORT),
    }
    n = calls.aggregate(**{name: Count("pk", filter=q) for name, q in conditions.items()})
    phone, form = Channel.PHONE.value, Channel.SELF_REPORT.value
    times = calls.filter(COMPLETED, channel=Channel.SELF_REPORT, self_report__sent_at__isnull=False).values_list(
        "self_report__sent_at", "self_report__answered_at"
    )
    hours = [(answered - sent) / dt.timedelta(hours=1) for sent, answered in times if answered and sent]
    channels = [
        ChannelFigures(
            channel=phone,
            label=str(Channel.PHONE.label),
            completed=n[f"{phone}_done"],
            reach=Rate(n[f"{phone}_done"], max(n["countable"] - n[f"{form}_done"], 0)),
            red_flags=Rate(n[f"{phone}_flags"], n[f"{phone}_done"]),
            satisfied=Rate(n[f"{phone}_satisfied"], n[f"{phone}_rated"]),
        ),
        ChannelFigures(
            channel=form,
            label=str(Channel.SELF_REPORT.label),
            completed=n[f"{form}_done"],
            reach=Rate(n[f"{form}_done"], n["invited"]),
            red_flags=Rate(n[f"{form}_flags"], n[f"{form}_done"]),
            satisfied=Rate(n[f"{form}_satisfied"], n[f"{form}_rated"]),
        ),
    ]
    return SelfReportFigures(
        invited=n["invited"],
        answered=Rate(n[f"{form}_done"], n["invited"]),
        median_hours=round(statistics.median(hours), 1) if hours else None,
        spared=Rate(n["spared"], n["countable"]),
        asked_for_call=n["asked"],
        channels=channels,
    )
