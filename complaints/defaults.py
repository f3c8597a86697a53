"""The complaint configuration a hospital starts with: the categories
hospitals report on (DOMAIN.md section 6), the default SLA per severity and
the default working calendar. All three are editable in the admin afterwards;
create_default_configuration() only adds what is missing, never overwrites:
a category by code, an SLA policy by severity, a working calendar when there
is none.

followup.sync runs it after every migrate (and after the flush that ends a
transactional test)."""

import datetime as dt

from django.db import DEFAULT_DB_ALIAS

CATEGORIES = [
    # code, English, Chinese
    ("attitude", "Attitude, poor explanation, communication", "服务态度、解释不到位、沟通"),
    ("doctor", "Doctor's responsibility, diagnosis and treatment", "医生责任心、诊疗"),
    ("nursing", "Nursing", "护理"),
    ("fees", "Fees", "收费"),
    ("logistics", "Logistics (food, ward hygiene)", "后勤（饮食、病区卫生）"),
    ("insurance", "Medical insurance", "医保"),
    ("pharmacy", "Pharmacy dispensing", "药房发药"),
    ("discipline", "Labour discipline", "劳动纪律"),
    ("rules", "Hospital rules not understood", "不理解医院规章制度"),
    ("treatment_effect", "Treatment effect", "治疗效果"),
    ("suggestion", "Suggestion", "意见建议"),
    ("staff_member", "A specific staff member", "针对具体工作人员"),
    ("other", "Other", "其他"),
]

SLA = [
    # severity, first response value/unit, resolution value/unit
    ("urgent", 30, "minutes", 1, "days"),
    ("major", 4, "hours", 3, "days"),
    ("general", 1, "days", 7, "days"),
]


def create_default_configuration(apps, *, using: str = DEFAULT_DB_ALIAS) -> None:
    Category = apps.get_model("complaints", "Category")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    WorkingCalendar = apps.get_model("complaints", "WorkingCalendar")
    for order, (code, name_en, name_zh) in enumerate(CATEGORIES, start=1):
        Category.objects.using(using).get_or_create(
            code=code, defaults={"name_en": name_en, "name_zh": name_zh, "order": order}
        )
    for severity, fr_value, fr_unit, res_value, res_unit in SLA:
        SlaPolicy.objects.using(using).get_or_create(
            severity=severity,
            defaults={
                "first_response_value": fr_value,
                "first_response_unit": fr_unit,
                "resolution_value": res_value,
                "resolution_unit": res_unit,
            },
        )
    if not WorkingCalendar.objects.using(using).exists():
        WorkingCalendar.objects.using(using).create(
            name="Patient service centre", weekdays=[0, 1, 2, 3, 4], start_time=dt.time(8, 0), end_time=dt.time(17, 30)
        )
