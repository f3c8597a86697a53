"""The published cardiology cohort of issue 18, rebuilt as stays and calls,
as a hospital would have entered it call by call: 1,056 patients discharged,
two planned calls each.

- 31 died before their first call: both calls cancelled (patient died);
- 5 died before their first call whose second call was never planned: one
  call, cancelled (patient died). The call-level figure reads "Deceased 67"
  (36 first calls and 31 second ones): 36 patients;
- 58 never answered: both calls unreachable ("Unreachable 116"): 58 patients
  lost to follow-up;
- 962 reached on both calls ("Completed 1,924"). A family member took part in
  578 calls (the first call of 300 patients and the second of 278, 200 of
  whom also had family on the first): 478 patients. Each patient's last rated
  call gives 885 satisfied (92.0% of 962), 48 basically satisfied and 29
  unsatisfied; the first 10 rated only their first call (satisfied), and 90
  more were unsatisfied on the first call but satisfied on the second.
- Complaint reasons raised on their calls: attitude 32 patients (3.0% of
  1,056; one of them complained twice), doctor 21 (2.0%), fees 21 (2.0%),
  logistics 11 (1.0%).

Sex, age and diagnosis vary so that every breakdown has several rows.
"""

import datetime as dt

from calls.models import FollowUpCall
from tests.factories import bulk_stays

S = FollowUpCall.Status
FIRST_DISCHARGE, LAST_DISCHARGE = dt.date(2011, 6, 1), dt.date(2012, 5, 31)
# The period that holds every discharge and every call (the second call 30 days on).
START, END = dt.date(2011, 6, 1), dt.date(2012, 6, 30)
ICD10 = ["I25.1", "I21.0", "I50.9", "I10", "E11.9", ""]
REASONS = [("attitude", 32), ("doctor", 21), ("fees", 21), ("logistics", 11)]

EXPECTED = {
    "patients_discharged": 1056,
    "patients_reached": 962,
    "patients_deceased": 36,
    "patients_lost": 58,
    "patients_with_family": 478,
    "patients_rated": 962,
    "patients_satisfied": 885,
    "patients_basically_satisfied": 48,
    "patients_unsatisfied": 29,
    "family_participations": 578,
    "calls_due": 2107,
    "calls_completed": 1924,
    "calls_deceased": 67,
    "calls_unreachable": 116,
}


def _completed(due: dt.date, *, satisfaction: str, family: bool) -> dict:
    return {
        "due_date": due,
        "status": S.COMPLETED,
        "completed_at": dt.datetime.combine(due, dt.time(16, 30), tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "satisfaction": satisfaction,
        "answered_by": "family" if family else "patient",
        "duration_seconds": 420,
    }


def cardiology_stays() -> list[dict]:
    days = (LAST_DISCHARGE - FIRST_DISCHARGE).days + 1
    stays = []
    for i in range(1056):
        discharged = FIRST_DISCHARGE + dt.timedelta(days=i * days // 1056)
        first, second = discharged + dt.timedelta(days=7), discharged + dt.timedelta(days=30)
        stay = {
            "discharged_on": discharged,
            "sex": "M" if i % 3 else "F",
            # ages at discharge from 40 to 89, and 12 patients with no birth date
            "birth_date": None if i % 88 == 5 else dt.date(discharged.year - 40 - i % 50, 1 + i % 12, 1),
            "icd10": ICD10[i % len(ICD10)],
        }
        if i < 36:
            died = {"status": S.CANCELLED, "cancel_reason": FollowUpCall.CancelReason.DECEASED}
            stay["deceased_on"] = discharged + dt.timedelta(days=3)
            stay["calls"] = [{"due_date": first, **died}] + ([{"due_date": second, **died}] if i < 31 else [])
        elif i < 94:
            stay["calls"] = [{"due_date": day, "status": S.UNREACHABLE} for day in (first, second)]
        else:
            k = i - 94
            if k < 10:
                ratings = ("satisfied", "")
            elif k < 885:
                ratings = ("unsatisfied" if k < 100 else "satisfied", "satisfied")
            else:
                ratings = ("satisfied", "basic" if k < 933 else "unsatisfied")
            stay["calls"] = [
                _completed(first, satisfaction=ratings[0], family=k < 300),
                _completed(second, satisfaction=ratings[1], family=200 <= k < 478),
            ]
        stays.append(stay)
    return stays


def build_cardiology(department, *, received_by) -> list[list]:
    """The cohort in ``department``; its complaints received by ``received_by``.
    Returns each stay's calls."""
    from complaints.models import Category, Complaint

    calls = bulk_stays(department=department, stays=cardiology_stays())
    reached = [stay_calls for stay_calls in calls if stay_calls and stay_calls[0].status == S.COMPLETED]
    complaints, patient = [], 0
    for code, patients in REASONS:
        category = Category.objects.get(code=code)
        for _n in range(patients):
            call = reached[patient][1]
            complaints.append((call, category))
            patient += 1
    complaints.append((reached[0][0], Category.objects.get(code="attitude")))  # patient 0's second complaint
    created = Complaint.objects.bulk_create(
        [
            Complaint(
                reference=f"CARD-{n}",
                channel=Complaint.Channel.FOLLOW_UP_CALL,
                patient_id=call.discharge.patient_id,
                source_call=call,
                complainant_name="Complainant",
                received_at=call.completed_at,
                received_by=received_by,
                category=category,
                description="Raised on the follow-up call",
            )
            for n, (call, category) in enumerate(complaints)
        ]
    )
    Complaint.departments.through.objects.bulk_create(
        [Complaint.departments.through(complaint=c, department=department) for c in created]
    )
    return calls
