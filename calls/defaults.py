"""The satisfaction items every hospital starts with (DOMAIN.md section 5):
patients score each 1-10 on a call. Admins can add, reorder or deactivate
them later; this only creates the ones that are missing (by code).

followup.sync runs create_default_satisfaction_items() after every migrate
(and after the flush that ends a transactional test)."""

from django.db import DEFAULT_DB_ALIAS

DEFAULT_SATISFACTION_ITEMS = [
    # code, English name, Chinese name, order
    ("nursing_attitude", "Nursing attitude", "护理态度", 10),
    ("nursing_skill", "Nursing skill", "护理技术", 20),
    ("doctors", "Doctors", "医生", 30),
    ("fees", "Fees", "费用", 40),
    ("environment", "Ward environment", "病区环境", 50),
]


def create_default_satisfaction_items(apps, *, using: str = DEFAULT_DB_ALIAS) -> None:
    SatisfactionItem = apps.get_model("calls", "SatisfactionItem")
    for code, name, name_zh, order in DEFAULT_SATISFACTION_ITEMS:
        SatisfactionItem.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )
