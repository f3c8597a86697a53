"""Seeding and counting run in their own process against the database the
worker uses (``python -m tests.faults.worker_jobs seed N DEPARTMENTS`` /
``counts`` / ``seed-feed-ward`` / ``feed-state``), so the same code serves the
PostgreSQL test database and a throwaway SQLite file."""

import datetime as dt
import json
import os
import sys

import django


def seed(discharges: int, departments: int) -> None:
    """``departments`` wards with one rule step each (day 7, any weekday) and
    ``discharges`` discharges spread over them, all due today."""
    from django.utils import timezone

    from calls.models import Department, Discharge, FollowUpRule, Patient, RuleStep

    today = timezone.localdate()
    per_ward = discharges // departments
    for number in range(departments):
        ward = Department.objects.create(code=f"F{number}", name=f"Fault ward {number}", phone="+862150001234")
        rule = FollowUpRule.objects.create(name="Weekly calls", department=ward)
        RuleStep.objects.create(
            rule=rule,
            offset_days=7,
            early_days=0,
            late_days=7,
            weekdays=list(range(7)),
            window_start=dt.time(9),
            window_end=dt.time(17),
            max_attempts=3,
        )
        patients = Patient.objects.bulk_create(
            Patient(mrn=f"F{number}-{i:06d}", name=f"Patient {i}", phone=f"+86138{i:08d}") for i in range(per_ward)
        )
        discharged = today - dt.timedelta(days=7)
        Discharge.objects.bulk_create(
            (
                Discharge(
                    patient=p,
                    department=ward,
                    admitted_on=discharged - dt.timedelta(days=5),
                    discharged_on=discharged,
                    diagnosis="Coronary heart disease",
                )
                for p in patients
            ),
            batch_size=5000,
        )


# The hospital system's ward 3A is the department CARD, whose rule asks for a
# call 2 days after discharge and another 30 days after (see seed_feed_ward).
FEED_WARD = "3A"
FEED_DEPARTMENT = "CARD"
FEED_STEP_OFFSETS = (2, 30)


def seed_feed_ward() -> None:
    """Department CARD, reachable from HL7 ward code 3A from any sender, with
    a rule of two steps (FEED_STEP_OFFSETS days after discharge, any weekday,
    14:00-17:00, a week of lateness allowed)."""
    from calls.models import Department, FollowUpRule, RuleStep
    from interop.models import Kind, WardMapping

    ward = Department.objects.create(code=FEED_DEPARTMENT, name="Cardiology", phone="+862150001234")
    WardMapping.objects.create(kind=Kind.HL7, sender="", code=FEED_WARD, department=ward)
    rule = FollowUpRule.objects.create(name="Cardiology follow-up", department=ward)
    for order, offset in enumerate(FEED_STEP_OFFSETS):
        RuleStep.objects.create(
            rule=rule,
            order=order,
            offset_days=offset,
            late_days=7,
            weekdays=list(range(7)),
            window_start=dt.time(14),
            window_end=dt.time(17),
        )


def feed_state() -> dict[str, list[dict]]:
    """What a user of the desk sees of the feed: the inbound messages (admin
    inbox), the patients, their discharges and their follow-up calls, with
    times in the hospital's time zone."""
    from django.utils import timezone

    from calls.models import Discharge, FollowUpCall, Patient
    from interop.models import InboundMessage

    calls = FollowUpCall.objects.select_related("step", "discharge").order_by("due_date", "pk")
    return {
        "messages": list(
            InboundMessage.objects.order_by("pk").values(
                "kind",
                "sender",
                "control_id",
                "event_type",
                "status",
                "error",
                "warnings",
                "discharge__source_reference",
            )
        ),
        "patients": list(Patient.objects.order_by("pk").values("mrn", "name", "sex", "birth_date", "phone")),
        "discharges": list(
            Discharge.objects.order_by("pk").values(
                "patient__mrn",
                "department__code",
                "admitted_on",
                "discharged_on",
                "diagnosis",
                "icd10",
                "attending_doctor",
                "source",
                "source_reference",
                "archived",
            )
        ),
        "calls": [
            {
                "discharge__source_reference": call.discharge.source_reference,
                "step_offset_days": call.step.offset_days,
                "due_date": call.due_date,
                "scheduled_for": timezone.localtime(call.scheduled_for).isoformat() if call.scheduled_for else None,
                "status": call.status,
            }
            for call in calls
        ],
    }


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.settings")
    django.setup()
    if argv[0] == "seed":
        seed(int(argv[1]), int(argv[2]))
    elif argv[0] == "seed-feed-ward":
        seed_feed_ward()
    elif argv[0] == "feed-state":  # as JSON
        from django.core.serializers.json import DjangoJSONEncoder

        print(json.dumps(feed_state(), cls=DjangoJSONEncoder))
    else:  # "counts": calls per fault ward, as JSON
        from django.db.models import Count

        from calls.models import Department

        wards = Department.objects.filter(code__startswith="F").annotate(n=Count("discharges__calls"))
        print(json.dumps({d.code: d.n for d in wards.order_by("code")}))


if __name__ == "__main__":
    main(sys.argv[1:])
