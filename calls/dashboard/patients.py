"""The dashboard's patients: what each patient-level figure counts, written
once, for the figures (an aggregate query) and for the list behind each of
them (the same conditions as a filter). Definitions: docs/dashboard.md,
"Patients".

The unit is the stay: every discharge of the chosen departments whose
discharge date falls in the period (an archived, that is cancelled,
discharge is none), with all of its follow-up calls whatever their due date.
A patient discharged twice in the period counts twice, as hospitals count
discharges. A stay is

- *reached* when at least one of its calls was completed;
- *deceased* when one of its calls was cancelled because the patient died
  (reached before or not);
- *lost to follow-up* when it was neither reached nor deceased and at least
  one of its calls was marked unreachable;
- *rated* by the overall rating of its last rated call (the completed call
  with a rating and the latest due date; then the latest completion, then
  the latest call), so each patient counts once among the satisfied,
  basically satisfied or unsatisfied;
- one in which the *family took part* when a family member took part in at
  least one completed call (``family_conditions``).

Also here: age bands at discharge and the ICD-10 chapters (WHO ICD-10,
2019 edition), which the cohort is broken down by.
"""

import re
from dataclasses import dataclass
from itertools import pairwise

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..models import Discharge, FollowUpCall, Patient

Status = FollowUpCall.Status
AnsweredBy = FollowUpCall.AnsweredBy

# --- who took part in a call ---------------------------------------------------------------

# The answered_by values that mean a family member took part (alone or with
# the patient), and those that mean patient and family together. Recording
# "both" is not possible yet: the one place to change when it is.
FAMILY_TOOK_PART: tuple[str, ...] = (AnsweredBy.FAMILY, AnsweredBy.BOTH)
PATIENT_AND_FAMILY: tuple[str, ...] = (AnsweredBy.BOTH,)


def family_conditions(prefix: str = "") -> dict[str, Q]:
    """Who took part in a completed call, as every dashboard figure, list and
    summary counts it: the one reader of ``FollowUpCall.answered_by`` (and of
    the summary's copy of it). ``family``: a family member took part;
    ``patient_and_family``: both were on the call. ``prefix``: the path to
    the call ("calls__" from a discharge)."""
    completed = Q(**{f"{prefix}status": Status.COMPLETED})
    return {
        "family": completed & Q(**{f"{prefix}answered_by__in": FAMILY_TOOK_PART}),
        "patient_and_family": completed & Q(**{f"{prefix}answered_by__in": PATIENT_AND_FAMILY}),
    }


# --- the stays of a period and their outcome -------------------------------------------------

# A stay's calls counted by what its outcome hangs on (annotations of with_states).
STAY_CALL_COUNTS = {
    "completed_calls": Q(calls__status=Status.COMPLETED),
    "deceased_calls": Q(calls__status=Status.CANCELLED, calls__cancel_reason=FollowUpCall.CancelReason.DECEASED),
    "unreachable_calls": Q(calls__status=Status.UNREACHABLE),
    "family_calls": family_conditions("calls__")["family"],
}
OUTCOMES = {
    "reached": Q(completed_calls__gt=0),
    "deceased": Q(deceased_calls__gt=0),
    "lost": Q(completed_calls=0, deceased_calls=0, unreachable_calls__gt=0),
}
FAMILY = Q(family_calls__gt=0)
SATISFACTIONS = tuple(FollowUpCall.Satisfaction.values)


def cohort(*, department_ids: list[int], start, end) -> QuerySet[Discharge]:
    """The stays of a period: discharged from ``start`` to ``end`` (first and
    last day included) from one of the departments, not cancelled."""
    return Discharge.objects.filter(
        department_id__in=department_ids, discharged_on__gte=start, discharged_on__lte=end, archived=False
    )


def last_rated_call(calls: QuerySet[FollowUpCall]) -> QuerySet[FollowUpCall]:
    """The call whose overall rating stands for the stay: completed, rated,
    latest due date first (then latest completion, then latest call)."""
    return (
        calls.filter(status=Status.COMPLETED)
        .exclude(satisfaction="")
        .order_by(F("due_date").desc(), F("completed_at").desc(nulls_last=True), F("pk").desc())
    )


def with_states(stays: QuerySet[Discharge]) -> QuerySet[Discharge]:
    """The stays annotated with how many of their calls their outcome hangs
    on (STAY_CALL_COUNTS: one join of the calls, grouped per stay; OUTCOMES
    and FAMILY filter on them), ``rating`` (the last rated call's overall
    rating, "" for none), ``sex``, ``age`` at discharge and ``age_band``."""
    calls = FollowUpCall.objects.filter(discharge=OuterRef("pk"))
    return stays.annotate(
        **{name: Count("calls", filter=condition) for name, condition in STAY_CALL_COUNTS.items()},
        rating=Coalesce(Subquery(last_rated_call(calls).values("satisfaction")[:1]), Value("")),
        sex=F("patient__sex"),
        age=_age_at_discharge(),
    ).annotate(age_band=age_band_expression("age"))


def _age_at_discharge():
    """Whole years from birth to the discharge date (NULL without a birth
    date), as PostgreSQL's age() counts them: one less before the birthday."""
    birth, day = "patient__birth_date", "discharged_on"
    before_birthday = Case(
        When(
            Q(
                Q(**{f"{day}__month__lt": ExtractMonth(birth)})
                | Q(**{f"{day}__month": ExtractMonth(birth), f"{day}__day__lt": ExtractDay(birth)})
            ),
            then=Value(1),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Case(
        When(patient__birth_date__isnull=True, then=Value(None)),
        default=ExtractYear(day) - ExtractYear(birth) - before_birthday,
        output_field=IntegerField(),
    )


# --- age bands ---------------------------------------------------------------------------

# (code, youngest age in the band); each band runs to the next band's youngest age.
AGE_BANDS: list[tuple[str, int]] = [
    ("0-17", 0),
    ("18-44", 18),
    ("45-59", 45),
    ("60-69", 60),
    ("70-79", 70),
    ("80+", 80),
]
AGE_UNKNOWN = "unknown"


def age_band_expression(age: str):
    whens = [When(**{f"{age}__isnull": True}, then=Value(AGE_UNKNOWN))]
    for (code, _youngest), (_next, next_youngest) in pairwise(AGE_BANDS):
        whens.append(When(**{f"{age}__lt": next_youngest}, then=Value(code)))
    return Case(*whens, default=Value(AGE_BANDS[-1][0]))


def age_band_sql(age: str) -> str:
    """The same bands in SQL (the PostgreSQL summary), for an age expression."""
    whens = " ".join(
        f"WHEN {age} < {next_youngest} THEN '{code}'"
        for (code, _youngest), (_next, next_youngest) in pairwise(AGE_BANDS)
    )
    return f"(CASE WHEN {age} IS NULL THEN '{AGE_UNKNOWN}' {whens} ELSE '{AGE_BANDS[-1][0]}' END)"


def age_band_label(code: str) -> str:
    if code == AGE_UNKNOWN:
        return str(pgettext_lazy("age", "Unknown"))
    if code.endswith("+"):
        return str(_("%(age)s and over") % {"age": code[:-1]})
    return code


AGE_BAND_CODES = [code for code, _youngest in AGE_BANDS] + [AGE_UNKNOWN]


# --- ICD-10 chapters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Chapter:
    number: str  # Roman numeral, as the classification numbers its chapters
    first: str  # first three-character category, e.g. "C00"
    last: str  # last one, e.g. "D48"
    title: str

    def contains(self, block: str) -> bool:
        return self.first <= block <= self.last


# The 22 chapters of ICD-10 with the three-character categories each spans.
# Source: World Health Organization, International Statistical Classification
# of Diseases and Related Health Problems, 10th Revision, version 2019
# (https://icd.who.int/browse10/2019/en), "Chapters"; China's national
# standard GB/T 14396-2016 (疾病分类与代码) keeps the same chapters. A code
# whose first three characters fall in no chapter (a typing error, an unused
# category such as D49) is counted as "not classified".
CHAPTERS: list[Chapter] = [
    Chapter("I", "A00", "B99", _("Certain infectious and parasitic diseases")),
    Chapter("II", "C00", "D48", _("Neoplasms")),
    Chapter(
        "III",
        "D50",
        "D89",
        _("Diseases of the blood and blood-forming organs and certain disorders involving the immune mechanism"),
    ),
    Chapter("IV", "E00", "E90", _("Endocrine, nutritional and metabolic diseases")),
    Chapter("V", "F00", "F99", _("Mental and behavioural disorders")),
    Chapter("VI", "G00", "G99", _("Diseases of the nervous system")),
    Chapter("VII", "H00", "H59", _("Diseases of the eye and adnexa")),
    Chapter("VIII", "H60", "H95", _("Diseases of the ear and mastoid process")),
    Chapter("IX", "I00", "I99", _("Diseases of the circulatory system")),
    Chapter("X", "J00", "J99", _("Diseases of the respiratory system")),
    Chapter("XI", "K00", "K93", _("Diseases of the digestive system")),
    Chapter("XII", "L00", "L99", _("Diseases of the skin and subcutaneous tissue")),
    Chapter("XIII", "M00", "M99", _("Diseases of the musculoskeletal system and connective tissue")),
    Chapter("XIV", "N00", "N99", _("Diseases of the genitourinary system")),
    Chapter("XV", "O00", "O99", _("Pregnancy, childbirth and the puerperium")),
    Chapter("XVI", "P00", "P96", _("Certain conditions originating in the perinatal period")),
    Chapter("XVII", "Q00", "Q99", _("Congenital malformations, deformations and chromosomal abnormalities")),
    Chapter(
        "XVIII",
        "R00",
        "R99",
        _("Symptoms, signs and abnormal clinical and laboratory findings, not elsewhere classified"),
    ),
    Chapter("XIX", "S00", "T98", _("Injury, poisoning and certain other consequences of external causes")),
    Chapter("XX", "V01", "Y98", _("External causes of morbidity and mortality")),
    Chapter("XXI", "Z00", "Z99", _("Factors influencing health status and contact with health services")),
    Chapter("XXII", "U00", "U85", _("Codes for special purposes")),
]
CHAPTER_BY_NUMBER = {c.number: c for c in CHAPTERS}
NOT_CLASSIFIED = "none"
CODE_START = re.compile(r"\s*([A-Za-z])(\d\d)")


def chapter_of(code: str) -> str:
    """The chapter number of an ICD-10 code ("I25.1" -> "IX"), or "none"."""
    match = CODE_START.match(code or "")
    if match:
        block = match[1].upper() + match[2]
        for chapter in CHAPTERS:
            if chapter.contains(block):
                return chapter.number
    return NOT_CLASSIFIED


def chapter_label(number: str) -> str:
    chapter = CHAPTER_BY_NUMBER.get(number)
    if chapter is None:
        return str(_("Not classified (no or unknown ICD-10 code)"))
    return f"{chapter.number} {chapter.first}–{chapter.last} {chapter.title}"


def _blocks_regex(first: str, last: str) -> str:
    """A regular expression for the codes whose first three characters lie
    from ``first`` to ``last`` (each a letter and two digits)."""
    parts = []
    for letter in range(ord(first[0]), ord(last[0]) + 1):
        lo = int(first[1:]) if chr(letter) == first[0] else 0
        hi = int(last[1:]) if chr(letter) == last[0] else 99
        numbers = "|".join(f"{n:02d}" for n in range(lo, hi + 1))
        parts.append(f"[{chr(letter)}{chr(letter).lower()}]({numbers})")
    return r"^\s*(" + "|".join(parts) + ")"


def chapter_q(number: str, field: str = "icd10") -> Q:
    """The stays whose ICD-10 code lies in a chapter (``chapter_of`` in SQL);
    "none": in no chapter."""
    if number == NOT_CLASSIFIED:
        anywhere = Q()
        for chapter in CHAPTERS:
            anywhere |= Q(**{f"{field}__regex": _blocks_regex(chapter.first, chapter.last)})
        return ~anywhere
    chapter = CHAPTER_BY_NUMBER[number]
    return Q(**{f"{field}__regex": _blocks_regex(chapter.first, chapter.last)})


CHAPTER_CODES = [c.number for c in CHAPTERS] + [NOT_CLASSIFIED]
SEX_CODES = list(Patient.Sex.values)
# The list filter's value for "no ICD-10 code" (an empty code is a group of its own).
BLANK_CODE = "-"
