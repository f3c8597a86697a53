"""Seeding and counting run in their own process against the database the
worker uses (``python -m tests.faults.worker_jobs seed N DEPARTMENTS`` /
``counts``), so the same code serves the PostgreSQL test database and a
throwaway SQLite file."""

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


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.settings")
    django.setup()
    if argv[0] == "seed":
        seed(int(argv[1]), int(argv[2]))
    else:  # "counts": calls per fault ward, as JSON
        from django.db.models import Count

        from calls.models import Department

        wards = Department.objects.filter(code__startswith="F").annotate(n=Count("discharges__calls"))
        print(json.dumps({d.code: d.n for d in wards.order_by("code")}))


if __name__ == "__main__":
    main(sys.argv[1:])
