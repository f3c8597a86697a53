"""The four demo wards, for ``manage.py seed_demo``. Idempotent: found by code."""

from calls.models import Department

DEMO_DEPARTMENTS = [
    # code, English and Chinese name, ward phone
    ("CARD", "Cardiology (心内科)", "+862164041990"),
    ("BRST", "Breast surgery (乳腺外科)", "+862164041991"),
    ("ONCO", "Oncology (肿瘤科)", "+862164041992"),
    ("GSUR", "General surgery (普外科)", "+862164041993"),
]


def seed_departments(stdout) -> dict[str, Department]:
    departments = {}
    for code, name, phone in DEMO_DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name, "phone": phone})
    return departments
