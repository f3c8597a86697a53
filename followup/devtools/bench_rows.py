"""What the benchmarks that load a ward of their own share: the ward with
its nurses and rule (``bench_ward``), and the plain DELETE statements that
remove its stays and calls afterwards (``delete_ward_stays``): the rows are
the benchmark's own, nothing outside them points at them, and collecting
hundreds of thousands of objects to delete them one by one is slow."""

from django.contrib.auth.models import Group

from calls.models import Department, FollowUpRule
from followup.models import User
from followup.roles import Role

# The dashboard's summary tables kept per department (calls/models/dashboard.py).
SUMMARY_TABLES = ("calls_dashboardday", "calls_dashboarditemday", "calls_dashboardstayday")


def bench_ward(*, code: str, name: str, nurse_prefix: str, nurses: int) -> tuple[Department, list[User], FollowUpRule]:
    """A department ``code`` with ``nurses`` nurses on its staff (user names
    ``nurse_prefix`` + number) and one follow-up rule without steps (call it
    inside a transaction)."""
    department = Department.objects.create(code=code, name=name)
    group = Group.objects.get(name=Role.NURSE)
    staff = []
    for index in range(nurses):
        nurse = User.objects.create(username=f"{nurse_prefix}{index}", display_name=f"Bench nurse {index}")
        nurse.groups.add(group)
        staff.append(nurse)
    department.staff.add(*staff)
    rule = FollowUpRule.objects.create(department=department, name="Benchmark rule")
    return department, staff, rule


def delete_ward_stays(cursor, department_id: int) -> None:
    """The department's calls, its stays (and their summary rows) and its
    daily summary rows. Whatever else points at the calls (answers, spot
    checks, alerts) goes first: the caller knows what it wrote."""
    stays = "SELECT id FROM calls_discharge WHERE department_id = %s"
    cursor.execute(f"DELETE FROM calls_followupcall WHERE discharge_id IN ({stays})", [department_id])  # noqa: S608  # nosec B608
    cursor.execute(f"DELETE FROM calls_dashboardstay WHERE discharge_id IN ({stays})", [department_id])  # noqa: S608  # nosec B608
    cursor.execute("DELETE FROM calls_discharge WHERE department_id = %s", [department_id])
    for table in SUMMARY_TABLES:
        # A table name from the constant list above; the value a parameter.
        cursor.execute(f"DELETE FROM {table} WHERE department_id = %s", [department_id])  # noqa: S608  # nosec B608
