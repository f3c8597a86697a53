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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test (live server, threads) ends with a flush of the
    database, which drops what the data migrations created (roles,
    categories, schedules). pytest-django runs tests that use no db fixture
    by name after it, so put that data back as it was when the test database
    was built."""
    yield
    marker = item.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("serialized_rollback") or nextitem is None:
        return  # nothing flushed, or the test database is already gone after the last test
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with item.config.stash[blocking_manager_key].unblock():
            connection.creation.deserialize_db_from_string(contents)
