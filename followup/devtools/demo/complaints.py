"""Demo complaints for ``manage.py seed_demo``: two quarters of complaints in
the proportions hospitals report (DOMAIN.md section 6). Idempotent: a fixed
random seed, and nothing is added once complaints exist."""

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from calls.models import Department, Patient
from complaints import services
from complaints.models import Category, Complaint, Severity

COUNT = 60
RANDOM_SEED = 6

CATEGORY_WEIGHTS = {
    "attitude": 52,
    "doctor": 7,
    "nursing": 10,
    "fees": 12,
    "logistics": 5,
    "insurance": 7,
    "pharmacy": 8,
}
OUTCOME_WEIGHTS = {"explanation": 83, "compensation": 8, "mediation": 5.5, "legal": 2, "apology": 1.5}
# Each outcome as the resolution measures it stands for.
OUTCOME_MEASURES = {
    "explanation": ["explanation"],
    "apology": ["apology"],
    "compensation": ["apology", "compensation"],
    "mediation": ["mediation"],
    "legal": ["legal_advised", "court"],
}
COMPENSATION = Decimal("800.00")
CHANNEL_WEIGHTS = {
    "followup_call": 30,
    "hotline": 25,
    "in_person": 20,
    "web": 8,
    "letter": 5,
    "suggestion_box": 5,
    "survey": 5,
    "authority": 2,
}
SEVERITY_WEIGHTS = {Severity.GENERAL: 85, Severity.MAJOR: 12, Severity.URGENT: 3}
SETTLED_SHARE = 279 / 327
DEPARTMENTS = ["CARD", "BRST", "ONCO", "GSUR"]

DESCRIPTIONS = {
    "attitude": [
        "The nurse at the desk answered impatiently when asked about discharge papers.",
        "Nobody explained why the operation was postponed twice.",
        "The family felt talked down to when asking about the diet after discharge.",
    ],
    "doctor": ["The doctor did not explain the side effects of the new medicine."],
    "nursing": ["The infusion was changed late at night and the bell was not answered for 20 minutes."],
    "fees": ["The bill lists two CT scans but only one was done.", "Charged for a private room that was shared."],
    "logistics": ["The meals arrived cold three days in a row.", "The ward bathroom was not cleaned over the weekend."],
    "insurance": ["The insurance settlement at discharge took the whole afternoon."],
    "pharmacy": ["The pharmacy gave 14 tablets instead of 28 at discharge."],
}
REPLIES = {
    "explanation": "Explained the reason and the next steps; the complainant accepted.",
    "apology": "Apologised on behalf of the ward; the complainant accepted.",
    "compensation": "Apologised and agreed to refund the wrong charge.",
    "mediation": "Referred to the people's mediation committee with the family's consent.",
    "legal": "Told the family about the legal route; they chose it.",
}


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _working_moment(rng: random.Random, day: dt.date) -> dt.datetime:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time(rng.randint(8, 16), rng.choice([0, 15, 30, 45])), tzinfo=tz)


def seed(stdout) -> None:
    if Complaint.objects.exists():
        stdout.write("Complaints: already there, nothing added.\n")
        return
    User = get_user_model()
    officer = User.objects.filter(username="officer").first()
    head_nurse = User.objects.filter(username="headnurse").first()
    nurse = User.objects.filter(username="nurse").first()
    if officer is None:
        stdout.write("Complaints: no demo officer, nothing added.\n")
        return
    departments = {d.code: d for d in Department.objects.filter(code__in=DEPARTMENTS)}
    for code in ("CARD", "BRST"):
        if code in departments:
            departments[code].staff.add(*[u for u in (nurse, head_nurse) if u])
    categories = {c.code: c for c in Category.objects.all()}
    patients = list(Patient.objects.order_by("pk")[:50])
    rng = random.Random(RANDOM_SEED)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    for _ in range(COUNT):
        received_at = _working_moment(rng, today - dt.timedelta(days=rng.randint(1, 180)))
        category = _pick(rng, CATEGORY_WEIGHTS)
        outcome = _pick(rng, OUTCOME_WEIGHTS)
        patient = rng.choice(patients) if patients and rng.random() < 0.7 else None
        settled = rng.random() < SETTLED_SHARE
        reception = rng.choice([u for u in (nurse, officer) if u])
        complaint = services.complaint_create(
            by=reception,
            channel=_pick(rng, CHANNEL_WEIGHTS),
            category=categories[category],
            description=rng.choice(DESCRIPTIONS[category]),
            complainant_name=patient.name if patient else rng.choice(["王女士", "李先生", "张阿姨", "刘先生"]),
            complainant_phone=patient.phone if patient else "",
            complainant_relation=rng.choice(list(Complaint.Relation.values)),
            patient=patient,
            received_at=received_at,
            severity=_pick(rng, SEVERITY_WEIGHTS),
            validity=Complaint.Validity.VALID if rng.random() < 0.8 else Complaint.Validity.NOT_VALID,
            departments=[departments[rng.choice(DEPARTMENTS)]] if departments else [],
            staff_involved=[nurse] if nurse and category in ("attitude", "nursing") and rng.random() < 0.3 else [],
            owner=officer,
            settled_on_the_spot=settled,
            measures=OUTCOME_MEASURES[outcome] if settled else (),
            compensation_amount=COMPENSATION if settled and outcome == "compensation" else None,
            reply=REPLIES[outcome] if settled else "",
            handling_satisfaction=Complaint.Satisfaction.SATISFIED if settled else "",
        )
        if not settled:
            _work_ticket(rng, complaint, officer, outcome, received_at)
    # What the desk's ten-minute check would have found by now: the late ones
    # carry their "late" badge and notice from the first page view.
    late = services.complaint_flag_sla_breaches()
    stdout.write(f"Complaints: {COUNT} demo complaints over the last two quarters, {late} deadlines missed.\n")


def _work_ticket(rng: random.Random, complaint: Complaint, officer, outcome: str, received_at: dt.datetime) -> None:
    """Take a written-up ticket some way along its workflow, back-dated."""
    now = timezone.now()
    steps = rng.choice([0, 1, 2, 4, 4, 4])
    moment = received_at
    if steps:
        moment = min(moment + dt.timedelta(minutes=rng.randint(10, 600)), now)
        services.complaint_record_contact(
            complaint=complaint, by=officer, text="Called the complainant back to hear the details.", at=moment
        )
    for to in [Complaint.Status.INVESTIGATING, Complaint.Status.RESOLVED][:steps]:
        moment = min(moment + dt.timedelta(hours=rng.randint(1, 40)), now)
        services.complaint_transition(complaint=complaint, to=to, by=officer, at=moment)
    if steps == 4:
        moment = min(moment + dt.timedelta(hours=rng.randint(1, 24)), now)
        satisfaction = rng.choice([Complaint.Satisfaction.SATISFIED] * 4 + [Complaint.Satisfaction.BASIC])
        services.complaint_record_reply(
            complaint=complaint, by=officer, text=REPLIES[outcome], handling_satisfaction=satisfaction, at=moment
        )
        services.complaint_transition(
            complaint=complaint,
            to=Complaint.Status.CLOSED,
            by=officer,
            measures=OUTCOME_MEASURES[outcome],
            compensation_amount=COMPENSATION if outcome == "compensation" else None,
            at=moment,
        )
