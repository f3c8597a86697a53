"""Synthetic data shared by the benchmarks and the load test (never the demo,
which ships real-looking scripts as files)."""

import datetime as dt
import random

from calls.models import CallScript, Department, Question, ScriptVersion, TalkingPoint


def synthetic_script(
    *, name: str, department: Department, points_per_phase: int, questions: int
) -> tuple[ScriptVersion, list[Question]]:
    """A published English script of the department: ``points_per_phase``
    talking points in each phase and ``questions`` yes/no questions, the
    first of which has "yes" as a red flag."""
    script = CallScript.objects.create(name=name, language=CallScript.Language.ENGLISH)
    script.departments.add(department)
    version = ScriptVersion.objects.create(script=script, number=1, status=ScriptVersion.Status.PUBLISHED)
    TalkingPoint.objects.bulk_create(
        TalkingPoint(version=version, phase=phase, order=i, text=f"Talking point {i} of {phase}")
        for phase in TalkingPoint.Phase.values
        for i in range(points_per_phase)
    )
    created = Question.objects.bulk_create(
        Question(
            version=version,
            order=i,
            text=f"Question {i}?",
            kind=Question.Kind.YES_NO,
            red_flag_answers=["yes"] if i == 0 else [],
        )
        for i in range(questions)
    )
    return version, created


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]
CARDIOLOGY = [
    ("冠状动脉粥样硬化性心脏病", "I25.1"),
    ("不稳定型心绞痛", "I20.0"),
    ("急性前壁心肌梗死", "I21.0"),
    ("慢性心力衰竭", "I50.9"),
    ("心房颤动", "I48.0"),
    ("高血压病3级", "I10"),
    ("病态窦房结综合征", "I49.5"),
]
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "186")


# Secondary diagnoses a cardiology ward records (hypertension, diabetes, kidney disease, COPD, ...).
SECONDARY_CODES = ["I10", "E11.9", "E11.2", "N18.3", "J44.9", "I48.0", "E78.5", "I50.9", "K70.3", "C78.0"]


def discharge_export_rows(*, count: int, department_code: str, nurses: list[str], today, mrn_prefix: str, seed: int):
    """``count`` rows of a cardiology ward's discharge export over the year
    before ``today``, as a hospital information system writes them (in
    calls.imports.IMPORT_COLUMNS order, all text): Chinese names and
    spellings (男/女, 一级护理), mobile and fixed-line numbers, one patient
    in ten readmitted, one stay in a hundred ending in death, most with a
    responsible nurse from ``nurses``. Every row is good."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    written = patient = 0
    while written < count:
        patient += 1
        mrn = f"{mrn_prefix}{patient:08d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        sex = rng.choice("男女")
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        family = rng.choice(SURNAMES) + rng.choice(GIVEN)
        relation = rng.choice(["女儿", "儿子", "配偶", "儿媳"])
        family_phone = (
            f"021 6{rng.randrange(10**3):03d} {rng.randrange(10**4):04d}"
            if rng.random() < 0.3
            else rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        )
        last_discharge = today - dt.timedelta(days=rng.randrange(1, 365))
        stays = 2 if rng.random() < 0.1 else 1
        for stay in range(stays):
            if written >= count:
                break
            discharged = last_discharge - dt.timedelta(days=45 * (stays - 1 - stay))
            admitted = discharged - dt.timedelta(days=rng.randrange(2, 15))
            diagnosis, icd10 = rng.choice(CARDIOLOGY)
            died = stay == stays - 1 and rng.random() < 0.01
            yield [
                mrn,
                name,
                sex,
                born.isoformat(),
                phone,
                family,
                relation,
                family_phone,
                department_code,
                admitted.isoformat(),
                discharged.strftime("%Y/%m/%d") if rng.random() < 0.2 else discharged.isoformat(),
                diagnosis,
                icd10,
                rng.choice(["刘建国", "陈红", "王志强"]),
                rng.choice(nurses) if rng.random() < 0.9 else "",
                rng.choice(["一级护理", "二级护理", "1", "2", "三级"]),
                "胸闷时含服硝酸甘油" if rng.random() < 0.3 else "",
                "",
                "死亡" if died else rng.choice(["", "出院", "home"]),
                # The readmission risk's columns (docs/risk.md), as a hospital export fills them.
                rng.choices(["急诊", "择期", "外院转入", ""], weights=[60, 30, 5, 5])[0],
                ", ".join(rng.sample(SECONDARY_CODES, rng.randrange(0, 4))),
                str(rng.choices([0, 1, 2, 3], weights=[60, 25, 10, 5])[0]),
            ]
            written += 1
