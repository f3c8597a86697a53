"""Demo rules, nurses, patients, discharges and calls for ``manage.py
seed_demo``. Idempotent: a fixed random seed, patients found by MRN, rules and
nurses by name, and call generation that never duplicates."""

import datetime as dt
import random

from django.utils import timezone

from calls.models import Department, Discharge, FollowUpRule, Patient, RuleStep
from calls.services.cancellation import patient_mark_deceased
from calls.services.queue import generate_calls
from followup.dates import week_bounds
from followup.models import User
from followup.roles import Role

from .call_scripts import link_rule_steps
from .departments import seed_departments
from .users import ensure_user

WEEKDAYS = [0, 1, 2, 3, 4]
# department code -> rules: (name, diagnosis match, [(offset, early, late, weekdays, start, end, max attempts)])
DEMO_RULES = {
    "CARD": [
        (
            "Thursday calls, weeks 1 and 2 (周四随访)",
            "",
            [
                (7, 3, 3, [3], dt.time(16), dt.time(17), 3),
                (14, 3, 3, [3], dt.time(16), dt.time(17), 3),
            ],
        ),
    ],
    "BRST": [
        (
            "Week 1, then day 30 (术后随访)",
            "",
            [
                (7, 1, 3, WEEKDAYS, dt.time(15), dt.time(17), 3),
                (30, 3, 7, WEEKDAYS, dt.time(15), dt.time(17), 3),
            ],
        ),
    ],
    "ONCO": [
        (
            "Day 3-5 at the agreed time (出院3-5天)",
            "",
            [
                (4, 1, 1, WEEKDAYS, dt.time(8, 30), dt.time(17, 30), 3),
            ],
        ),
    ],
    "GSUR": [
        (
            "Day 7 and day 30 (普外随访)",
            "",
            [
                (7, 1, 3, WEEKDAYS, dt.time(14), dt.time(17), 3),
                (30, 3, 7, WEEKDAYS, dt.time(14), dt.time(17), 3),
            ],
        ),
    ],
}

# username, display name, department codes
DEMO_NURSES = [
    ("card_zhou", "Zhou Min (周敏)", ["CARD"]),
    ("card_wu", "Wu Jing (吴静)", ["CARD"]),
    ("brst_sun", "Sun Li (孙丽)", ["BRST"]),
    ("brst_ma", "Ma Yan (马艳)", ["BRST"]),
    ("onco_hu", "Hu Xia (胡霞)", ["ONCO"]),
    ("gsur_guo", "Guo Hong (郭红)", ["GSUR"]),
    ("gsur_lin", "Lin Ping (林萍)", ["GSUR"]),
]

# Diagnoses in proportion to the wards' real case mix (DOMAIN.md section 3):
# (diagnosis, ICD-10, weight)
DEMO_DIAGNOSES = {
    "CARD": [
        ("冠心病 Coronary heart disease", "I25.1", 427),
        ("高血压 Hypertension", "I10", 412),
        ("心律失常 Arrhythmia", "I49.9", 205),
        ("先天性心脏病 Congenital heart disease", "Q24.9", 12),
    ],
    "BRST": [
        ("乳腺癌改良根治术后 Breast cancer, after modified radical mastectomy", "C50.9", 70),
        ("乳腺癌保乳术后 Breast cancer, after breast-conserving surgery", "C50.4", 25),
        ("乳腺纤维腺瘤 Breast fibroadenoma", "D24", 5),
    ],
    "ONCO": [
        ("肺癌化疗后 Lung cancer, after chemotherapy", "C34.9", 35),
        ("胃癌化疗后 Gastric cancer, after chemotherapy", "C16.9", 25),
        ("结直肠癌化疗后 Colorectal cancer, after chemotherapy", "C18.9", 25),
        ("肝癌 Liver cancer", "C22.0", 15),
    ],
    "GSUR": [
        ("胆囊结石 Gallstones, after cholecystectomy", "K80.2", 35),
        ("急性阑尾炎 Acute appendicitis, after appendectomy", "K35.8", 30),
        ("腹股沟疝 Inguinal hernia, after repair", "K40.9", 25),
        ("甲状腺结节 Thyroid nodule, after thyroidectomy", "E04.1", 10),
    ],
}
# discharges per department over five weeks (about 300 in all)
DEMO_VOLUME = {"CARD": 110, "BRST": 90, "ONCO": 50, "GSUR": 50}
DEMO_DECEASED = 4
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰淑珍志强海燕"
RELATIONS = ["配偶", "儿子", "女儿", "儿媳", "女婿"]
DOCTORS = ["刘医生", "陈医生", "杨医生", "赵医生", "黄医生"]


def seed_rules(departments: dict[str, Department]) -> None:
    for code, rules in DEMO_RULES.items():
        for name, match, steps in rules:
            rule, _ = FollowUpRule.objects.get_or_create(
                department=departments[code], name=name, defaults={"diagnosis_match": match}
            )
            for order, (offset, early, late, weekdays, start, end, attempts) in enumerate(steps):
                RuleStep.objects.get_or_create(
                    rule=rule,
                    offset_days=offset,
                    defaults={
                        "order": order,
                        "early_days": early,
                        "late_days": late,
                        "weekdays": weekdays,
                        "window_start": start,
                        "window_end": end,
                        "max_attempts": attempts,
                    },
                )


def seed_nurses(departments: dict[str, Department]) -> dict[str, list[User]]:
    nurses: dict[str, list[User]] = {code: [] for code in departments}
    for username, display_name, codes in DEMO_NURSES:
        user = ensure_user(
            username=username, display_name=display_name, role=Role.NURSE, grade=User.Grade.NURSE_PRACTITIONER
        )
        for code in codes:
            departments[code].staff.add(user)
            nurses[code].append(user)
    for username in ("nurse", "headnurse"):
        user = User.objects.filter(username=username).first()
        if user is not None:
            for code in ("CARD", "BRST"):
                departments[code].staff.add(user)
    return nurses


def _phone(rng: random.Random) -> str:
    return f"+86{rng.choice(['138', '139', '135', '186', '158'])}{rng.randrange(10**8):08d}"


def seed_discharges(departments, nurses, *, today: dt.date) -> list[Patient]:
    rng = random.Random(20261122)  # noqa: S311 - demo data, fixed seed: a second run makes the same patients
    patients = []
    number = 0
    for code, volume in DEMO_VOLUME.items():
        diagnoses = DEMO_DIAGNOSES[code]
        weights = [weight for _d, _c, weight in diagnoses]
        for _ in range(volume):
            number += 1
            diagnosis, icd10, _weight = rng.choices(diagnoses, weights=weights)[0]
            female = code == "BRST" or rng.random() < 0.35
            stay = rng.randint(3, 14)
            discharged_on = today - dt.timedelta(days=rng.randint(1, 35))
            age = rng.randint(30, 87)
            patient, _ = Patient.objects.get_or_create(
                mrn=f"ZY2026{number:05d}",
                defaults={
                    "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
                    "sex": Patient.Sex.FEMALE if female else Patient.Sex.MALE,
                    "birth_date": dt.date(today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                    "phone": _phone(rng),
                    "family_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "family_relation": rng.choice(RELATIONS),
                    "family_phone": _phone(rng),
                    "preferred_call_time": rng.choice([None, None, dt.time(10), dt.time(15, 30), dt.time(16, 30)]),
                },
            )
            patients.append(patient)
            if patient.discharges.exists():
                continue
            ward_nurses = nurses[code]
            Discharge.objects.create(
                patient=patient,
                department=departments[code],
                admitted_on=discharged_on - dt.timedelta(days=stay),
                discharged_on=discharged_on,
                diagnosis=diagnosis,
                icd10=icd10,
                attending_doctor=rng.choice(DOCTORS),
                # a few without a responsible nurse: the queue assigns the least-loaded one
                responsible_nurse=rng.choice([*ward_nurses, None]) if ward_nurses else None,
                nursing_level=rng.choice(["1", "2", "2", "3"]),
                told_about_followup=rng.random() < 0.9,
            )
    return patients


def seed(stdout) -> None:
    today = timezone.localdate()
    departments = seed_departments(stdout)
    seed_rules(departments)
    link_rule_steps()  # the scripts seeder ran first; give the new steps their scripts
    nurses = seed_nurses(departments)
    patients = seed_discharges(departments, nurses, today=today)
    # Replay the weekly runs of the last five weeks, then this week's.
    this_monday, _sunday = week_bounds(today)
    created = 0
    for weeks_back in range(5, -1, -1):
        monday = this_monday - dt.timedelta(weeks=weeks_back)
        created += generate_calls(week=monday, today=min(monday, today)).created
    for patient in patients[::75][:DEMO_DECEASED]:
        if not patient.deceased:
            patient_mark_deceased(patient=patient, died_on=today - dt.timedelta(days=2), actor="system")
    stdout.write(f"Calls: {len(patients)} demo discharges, {created} calls generated.")
