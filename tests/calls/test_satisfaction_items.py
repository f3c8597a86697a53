import pytest
from django.utils import translation

from calls.models import SatisfactionItem

pytestmark = pytest.mark.django_db


def test_the_default_satisfaction_items_exist_in_order_with_chinese_names():
    assert list(SatisfactionItem.objects.values_list("code", "name", "name_zh", "is_active")) == [
        ("nursing_attitude", "Nursing attitude", "护理态度", True),
        ("nursing_skill", "Nursing skill", "护理技术", True),
        ("doctors", "Doctors", "医生", True),
        ("fees", "Fees", "费用", True),
        ("environment", "Ward environment", "病区环境", True),
    ]
    with translation.override("zh-hans"):
        assert [item.label for item in SatisfactionItem.objects.all()] == [
            "护理态度",
            "护理技术",
            "医生",
            "费用",
            "病区环境",
        ]
