import factory
from django.contrib.auth.models import Group

from followup.models import User
from followup.roles import Role

TEST_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=[str(r) for r in extracted]))
        if create and Role.ADMIN in (extracted or ()):
            self.is_staff = True
            self.save(update_fields=["is_staff"])


# --- calls -------------------------------------------------------------------------

import datetime as dt  # noqa: E402

from calls import models as cm  # noqa: E402


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Department {o.code}")
    phone = "+862150001234"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Patient

    mrn = factory.Sequence(lambda n: f"ZY{n:08d}")
    name = factory.Faker("name", locale="zh_CN")
    sex = cm.Patient.Sex.FEMALE
    birth_date = dt.date(1960, 5, 17)
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    family_name = factory.Faker("name", locale="zh_CN")
    family_relation = "daughter"
    family_phone = factory.Sequence(lambda n: f"+86139{n:08d}")


class DischargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Discharge

    patient = factory.SubFactory(PatientFactory)
    department = factory.SubFactory(DepartmentFactory)
    discharged_on = dt.date(2026, 11, 9)
    admitted_on = factory.LazyAttribute(lambda o: o.discharged_on - dt.timedelta(days=6))
    diagnosis = "Coronary heart disease"
    icd10 = "I25.1"
    attending_doctor = "Dr Zhang"


class CallScriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.CallScript

    name = factory.Sequence(lambda n: f"Script {n}")
    language = cm.CallScript.Language.ENGLISH


class ScriptVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.ScriptVersion

    script = factory.SubFactory(CallScriptFactory)
    number = 1
    language = factory.LazyAttribute(lambda o: o.script.language)
    status = cm.ScriptVersion.Status.PUBLISHED


class TalkingPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.TalkingPoint

    version = factory.SubFactory(ScriptVersionFactory)
    phase = cm.TalkingPoint.Phase.OPENING
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Talking point {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Question

    version = factory.SubFactory(ScriptVersionFactory)
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Question {n}?")
    kind = cm.Question.Kind.YES_NO


class SatisfactionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.SatisfactionItem
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"item{n}")
    name = factory.LazyAttribute(lambda o: f"Item {o.code}")


class FollowUpRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.FollowUpRule

    name = "Weekly calls"
    department = factory.SubFactory(DepartmentFactory)


class RuleStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.RuleStep

    rule = factory.SubFactory(FollowUpRuleFactory)
    offset_days = 7
    early_days = 0
    late_days = 7
    weekdays = [3]  # Thursday, as the cardiology desk does
    window_start = dt.time(16, 0)
    window_end = dt.time(17, 0)
    max_attempts = 3


class FollowUpCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.FollowUpCall

    discharge = factory.SubFactory(DischargeFactory)
    department = factory.SelfAttribute("discharge.department")
    risk_tier = factory.SelfAttribute("discharge.risk_tier")
    step = factory.SubFactory(RuleStepFactory, rule__department=factory.SelfAttribute("...discharge.department"))
    due_date = factory.LazyAttribute(lambda o: o.discharge.discharged_on + dt.timedelta(days=o.step.offset_days))
    earliest_on = factory.LazyAttribute(lambda o: o.due_date)
    latest_on = factory.LazyAttribute(lambda o: o.due_date + dt.timedelta(days=7))


# --- call scripts (issue 4) --------------------------------------------------------------


def publishable_version(*, script=None, status=cm.ScriptVersion.Status.DRAFT, number=1, **kwargs):
    """A version with an opening, a main and a closing point and one question."""
    version = ScriptVersionFactory(script=script or CallScriptFactory(), status=status, number=number, **kwargs)
    for phase in (cm.TalkingPoint.Phase.OPENING, cm.TalkingPoint.Phase.MAIN, cm.TalkingPoint.Phase.CLOSING):
        TalkingPointFactory(version=version, phase=phase, guidance=f"Guidance for {phase}")
    QuestionFactory(version=version, text="Any chest pain at rest?", red_flag_answers=["yes"])
    return version


# --- dashboard (issue 7) -------------------------------------------------------------------


def bulk_calls(*, department, rows: list[dict], prefix: str = "B") -> list:
    """One patient, discharge and call per row (call fields in the row; due_date
    required) created with bulk_create: fast enough for a thousand calls."""
    from django.db.models import Max

    start = (cm.Patient.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    patients = cm.Patient.objects.bulk_create(
        [cm.Patient(mrn=f"{prefix}{department.pk}-{start + i}", name=f"Patient {start + i}") for i in range(len(rows))]
    )
    discharges = cm.Discharge.objects.bulk_create(
        [
            cm.Discharge(
                patient=p,
                department=department,
                admitted_on=row["due_date"] - dt.timedelta(days=14),
                discharged_on=row["due_date"] - dt.timedelta(days=7),
                diagnosis="Coronary heart disease",
            )
            for p, row in zip(patients, rows, strict=True)
        ]
    )
    calls = []
    for d, row in zip(discharges, rows, strict=True):
        fields = {"earliest_on": row["due_date"], "latest_on": row["due_date"] + dt.timedelta(days=7), **row}
        calls.append(cm.FollowUpCall(discharge=d, department_id=d.department_id, **fields))
    return cm.FollowUpCall.objects.bulk_create(calls)


def bulk_stays(*, department, stays: list[dict], prefix: str = "S") -> list[list]:
    """One patient and one discharge per stay, with the stay's calls, in three
    bulk INSERTs (fast enough for a cohort of a thousand patients). A stay is
    a dict: ``discharged_on`` (required), ``calls`` (call fields, ``due_date``
    required), and optionally ``sex``, ``birth_date``, ``deceased_on``,
    ``icd10``, ``diagnosis``, ``archived``. Returns each stay's calls."""
    from django.db.models import Max

    start = (cm.Patient.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    patients = cm.Patient.objects.bulk_create(
        [
            cm.Patient(
                mrn=f"{prefix}{department.pk}-{start + i}",
                name=f"Patient {start + i}",
                sex=stay.get("sex", cm.Patient.Sex.UNKNOWN),
                birth_date=stay.get("birth_date"),
                deceased=stay.get("deceased_on") is not None,
                deceased_on=stay.get("deceased_on"),
            )
            for i, stay in enumerate(stays)
        ]
    )
    discharges = cm.Discharge.objects.bulk_create(
        [
            cm.Discharge(
                patient=patient,
                department=department,
                admitted_on=stay["discharged_on"] - dt.timedelta(days=7),
                discharged_on=stay["discharged_on"],
                diagnosis=stay.get("diagnosis", "Coronary heart disease"),
                icd10=stay.get("icd10", ""),
                archived=stay.get("archived", False),
            )
            for patient, stay in zip(patients, stays, strict=True)
        ]
    )
    calls = [
        cm.FollowUpCall(
            discharge=discharge,
            department=department,
            **{"earliest_on": row["due_date"], "latest_on": row["due_date"] + dt.timedelta(days=7), **row},
        )
        for discharge, stay in zip(discharges, stays, strict=True)
        for row in stay.get("calls", [])
    ]
    created = iter(cm.FollowUpCall.objects.bulk_create(calls))
    return [[next(created) for _row in stay.get("calls", [])] for stay in stays]
