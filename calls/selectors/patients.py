"""Read queries of the patient search, the patient page and the worklist's
"done" tab. Who sees what comes from followup.access: a nurse or head nurse
finds and opens only the patients of her wards, and sees their stays and
calls in her wards only (never another ward's)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from followup import access
from followup.dates import start_of_day, week_bounds
from followup.models import User
from followup.roles import Role, roles_of

from ..models import CallAnswer, ClinicalAlert, Discharge, FollowUpCall, ItemScore, Patient
from ..phones import normalise_phone

# What people type between the digits of a phone number: "+86 138-0013 (8000)".
PHONE_TYPING = re.compile(r"[\s()\-.+]")
# Fewer digits than this are not looked for in phone numbers (the worklist
# shows the last four: "••••••••••5678" finds her by "5678").
MIN_PHONE_DIGITS = 4
DONE_PERIODS = ("today", "week")


def _phone_match(text: str) -> Q | None:
    """Patients whose own or whose family contact's number is the one typed,
    in any format ("138 0013 8000", "+86 138-0013-8000"), or ends with the
    digits typed (at least MIN_PHONE_DIGITS). Numbers are stored in E.164."""
    match = None
    try:
        number = normalise_phone(text)
    except ValidationError:
        number = ""
    if number:
        match = Q(phone=number) | Q(family_phone=number)
    digits = PHONE_TYPING.sub("", text)
    if len(digits) >= MIN_PHONE_DIGITS and digits.isascii() and digits.isdigit():
        tail = Q(phone__endswith=digits) | Q(family_phone__endswith=digits)
        match = tail if match is None else match | tail
    return match


def patient_search(*, user: User, text: str) -> QuerySet[Patient]:
    """The patients of the user's wards (followup.access.visible_patients)
    whose name contains ``text``, whose inpatient number (MRN) starts with it
    (or whose record another record with that MRN was merged into), or whose
    or whose family contact's phone matches it (see _phone_match). Each with
    her latest stay in the user's wards (``last_discharged_on``,
    ``last_department``), by name."""
    text = " ".join((text or "").split())
    if not text:
        return Patient.objects.none()
    merged_from = Patient.objects.filter(merged_into=OuterRef("pk"), mrn__iexact=text)
    match = Q(name__icontains=text) | Q(mrn__istartswith=text) | Q(Exists(merged_from))
    phone = _phone_match(text)
    if phone is not None:
        match |= phone
    stays = access.visible_discharges(user).filter(patient=OuterRef("pk")).order_by("-discharged_on", "-pk")
    return (
        access.visible_patients(user)
        .filter(match)
        .annotate(
            last_discharged_on=Subquery(stays.values("discharged_on")[:1]),
            last_department=Subquery(stays.values("department__name")[:1]),
        )
        .order_by("name", "mrn", "pk")
    )


def patient_stays(*, user: User, patient: Patient) -> list[Discharge]:
    """The patient's stays in the user's wards, latest first."""
    return list(
        access.visible_discharges(user)
        .filter(patient=patient)
        .select_related("department", "responsible_nurse")
        .order_by("-discharged_on", "-pk")
    )


def patient_calls(*, user: User, patient: Patient) -> QuerySet[FollowUpCall]:
    """Every call of the patient's stays in the user's wards, latest first,
    with its answers, item scores, clinical alert and the complaints raised
    from it that the user may see. ``openable``: the user may open the call
    screen (a nurse her own and unassigned calls; followup.access.visible_calls)."""
    answers = CallAnswer.objects.select_related("question__version").order_by("question__order", "pk")
    return (
        FollowUpCall.objects.filter(discharge__in=access.visible_discharges(user), discharge__patient=patient)
        .select_related("discharge__department", "step", "assigned_to", "completed_by", "clinical_alert")
        .prefetch_related(
            Prefetch("answers", queryset=answers),
            Prefetch("item_scores", queryset=ItemScore.objects.select_related("item").order_by("item__order", "pk")),
            Prefetch(
                "complaints",
                queryset=access.visible_complaints(user).order_by("received_at", "pk"),
                to_attr="complaints_seen",
            ),
        )
        .annotate(openable=Exists(access.visible_calls(user).filter(pk=OuterRef("pk"))))
        .order_by("-due_date", "-pk")
    )


def patient_alerts(*, user: User, patient: Patient) -> list[ClinicalAlert]:
    """The clinical alerts raised on the patient's calls in the user's wards, latest first."""
    return list(
        ClinicalAlert.objects.filter(
            call__discharge__in=access.visible_discharges(user), call__discharge__patient=patient
        )
        .select_related("call", "resolved_by")
        .order_by("-raised_at", "-pk")
    )


def patient_complaints(*, user: User, patient: Patient) -> list:
    """The complaints about the patient, or raised from one of her calls, that the user may see, latest first."""
    return list(
        access.visible_complaints(user)
        .filter(Q(patient=patient) | Q(source_call__discharge__patient=patient))
        .select_related("category")
        .order_by("-received_at", "-pk")
    )


def done_calls(*, user: User, period: str = "today", today: dt.date | None = None) -> QuerySet[FollowUpCall]:
    """The calls completed today or this week (Monday to today, in the
    hospital's time zone), latest first: a nurse those she completed, a head
    nurse (and a superuser) every one of her wards. Calls of patients who
    died since stay on the list: they were done."""
    today = today or timezone.localdate()
    start = today if period == "today" else week_bounds(today)[0]
    calls = access.visible_calls(user, include_deceased=True).filter(
        status=FollowUpCall.Status.COMPLETED,
        completed_at__gte=start_of_day(start),
        completed_at__lt=start_of_day(today + dt.timedelta(days=1)),
    )
    if not (access.is_superuser(user) or Role.HEAD_NURSE in roles_of(user)):
        calls = calls.filter(completed_by=user)
    return calls.select_related("discharge__patient", "discharge__department", "step", "completed_by").order_by(
        "-completed_at", "-pk"
    )
