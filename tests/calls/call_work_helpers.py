"""Builders shared by the worklist and call screen tests."""

import datetime as dt

from calls.models import Department, FollowUpCall
from tests.factories import (
    CallScriptFactory,
    DepartmentFactory,
    DischargeFactory,
    FollowUpCallFactory,
    PatientFactory,
    QuestionFactory,
    RuleStepFactory,
    ScriptVersionFactory,
    TalkingPointFactory,
)

# A Thursday, like the cardiology desk's calling day.
TODAY = dt.date(2026, 11, 19)
NOW = dt.datetime(2026, 11, 19, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def ward_of(*users, code: str = "CARD") -> Department:
    department = DepartmentFactory(code=code, name=f"Ward {code}")
    department.staff.add(*users)
    return department


def make_call(
    *, department: Department, nurse=None, due: dt.date = TODAY, offset: int = 7, script=None, **kwargs
) -> FollowUpCall:
    patient_fields = {k.removeprefix("patient__"): kwargs.pop(k) for k in list(kwargs) if k.startswith("patient__")}
    patient = kwargs.pop("patient", None) or PatientFactory(**patient_fields)
    discharge = kwargs.pop("discharge", None) or DischargeFactory(
        patient=patient,
        department=department,
        discharged_on=due - dt.timedelta(days=offset),
    )
    step = RuleStepFactory(rule__department=department, offset_days=offset, weekdays=[3], script=script)
    return FollowUpCallFactory(discharge=discharge, step=step, due_date=due, assigned_to=nurse, **kwargs)


def scripted_version(*, department: Department, red_flag: bool = True):
    """A published script of the department with one required yes/no question
    whose "yes" is a red flag, and one optional text question."""
    version = ScriptVersionFactory(script__name="Cardiology day 7")
    version.script.departments.add(department)
    TalkingPointFactory(version=version, phase="opening", text="Good afternoon, I am your ward nurse.")
    TalkingPointFactory(version=version, phase="main", text="How are you feeling since you came home?")
    chest = QuestionFactory(
        version=version,
        order=1,
        text="Any chest pain since discharge?",
        kind="yes_no",
        red_flag_answers=["yes"] if red_flag else [],
    )
    note = QuestionFactory(version=version, order=2, text="Anything else?", kind="text", required=False)
    return version, chest, note


def bilingual_script(*, name: str = "Cardiology day 7"):
    """A script with a published English (v1) and Chinese (v2) version, each
    with its opening and closing, a yes/no chest-pain question whose "yes" is a red flag
    and a choice question. Returns (script, {language: (version, chest, choice)})."""
    script = CallScriptFactory(name=name, language="en")
    texts = {
        "en": ("Good afternoon, I am your ward nurse.", "Any chest pain since discharge?", "How active are you?"),
        "zh-hans": ("您好，我是您的责任护士。", "出院后有没有胸痛？", "活动情况如何？"),
    }
    choices = {"en": ["Walks daily", "Rests in bed"], "zh-hans": ["每天散步", "卧床休息"]}
    versions = {}
    for number, (language, (opening, chest_text, activity_text)) in enumerate(texts.items(), start=1):
        version = ScriptVersionFactory(
            script=script, number=number, language=language, title="心内科第7天随访" if language != "en" else ""
        )
        TalkingPointFactory(version=version, phase="opening", text=opening)
        TalkingPointFactory(version=version, phase="closing", text="再见！" if language != "en" else "Goodbye!")
        chest = QuestionFactory(version=version, order=1, text=chest_text, kind="yes_no", red_flag_answers=["yes"])
        activity = QuestionFactory(
            version=version, order=2, text=activity_text, kind="single", choices=choices[language], required=False
        )
        versions[language] = (version, chest, activity)
    return script, versions
