import datetime as dt
import zoneinfo

import pytest

from complaints import services
from complaints.models import Category, Complaint
from tests.factories import DepartmentFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    """An aware moment in the hospital's time zone."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse, head_nurse)
    return department


@pytest.fixture
def other_ward():
    return DepartmentFactory(code="ONCO", name="Oncology")


@pytest.fixture
def make_complaint(officer, ward):
    """Record a complaint through the service; keyword arguments override."""

    def make(**overrides) -> Complaint:
        fields = {
            "by": officer,
            "channel": Complaint.Channel.HOTLINE,
            "category": Category.objects.get(code="attitude"),
            "description": "The nurse did not explain the discharge medicines.",
            "complainant_name": "王女士",
            "departments": [ward],
            "owner": officer,
        }
        fields.update(overrides)
        return services.complaint_create(**fields)

    return make
