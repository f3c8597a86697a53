"""The commands that write demo, benchmark or load data refuse a database
that holds patients, discharges or complaints no developer tool created,
unless --force (followup/devtools/guard.py)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from calls.models import Department, Discharge, FollowUpCall, Patient
from complaints import services
from complaints.models import Category, Complaint
from followup.devtools.models import DeveloperRun
from followup.models import User
from tests.factories import DischargeFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark measures PostgreSQL")

COMMANDS = [
    pytest.param("seed_demo", {}, id="seed_demo"),
    pytest.param("load_test", {"users": 5}, id="load_test"),
    pytest.param("benchmark_pages", {"calls": 20, "runs": 1}, id="benchmark_pages"),
    pytest.param("benchmark_queue", {"discharges": 10}, id="benchmark_queue", marks=on_postgresql),
    pytest.param("benchmark_dashboard", {"calls": 10, "runs": 1}, id="benchmark_dashboard", marks=on_postgresql),
    pytest.param("benchmark_feed", {"messages": 5}, id="benchmark_feed", marks=on_postgresql),
]


@pytest.fixture(autouse=True)
def _debug_on(settings):
    settings.DEBUG = True  # seed_demo's other refusal (DEBUG off) is tested in test_seed_demo


def refusal(command: str, found: str) -> str:
    return (
        f"{command} refuses to write into the database {connection.settings_dict['NAME']}: it holds {found} "
        "that no developer tool created, which looks like a hospital's records. Point DATABASE_URL at a database "
        "of its own, or pass --force if this one is a scratch database (the developer tools then take it for one "
        "from now on)."
    )


def rows() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Department.objects.count(),
        Patient.objects.count(),
        Discharge.objects.count(),
        FollowUpCall.objects.count(),
        DeveloperRun.objects.count(),
    )


@pytest.mark.parametrize(("command", "options"), COMMANDS)
def test_each_writing_command_refuses_a_database_with_a_hospitals_discharges_and_writes_nothing(command, options):
    DischargeFactory()
    before = rows()

    with pytest.raises(CommandError) as refused:
        call_command(command, stdout=StringIO(), **options)

    assert str(refused.value) == refusal(command, "patients and discharges")
    assert rows() == before == (0, 1, 1, 1, 0, 0)


def test_complaints_alone_are_a_hospitals_records_too(officer):
    services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="Nobody called back.",
        complainant_name="王女士",
        owner=officer,
    )

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", stdout=StringIO())

    assert str(refused.value) == refusal("seed_demo", "complaints")
    assert Department.objects.count() == 0


def test_seed_demo_with_force_adds_the_demo_and_takes_the_database_for_a_developers():
    real = DischargeFactory()

    call_command("seed_demo", "--force", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    assert Discharge.objects.count() == 301
    assert Discharge.objects.filter(pk=real.pk).exists()
    assert list(DeveloperRun.objects.values_list("command", flat=True)) == ["seed_demo", "seed_demo"]


def test_benchmark_pages_with_force_measures_and_removes_only_its_own_rows():
    real = DischargeFactory()
    out = StringIO()

    call_command("benchmark_pages", calls=20, runs=1, force=True, stdout=out)

    assert out.getvalue().startswith("seeded 20 calls in ")
    assert list(Discharge.objects.values_list("pk", flat=True)) == [real.pk]
    assert list(Patient.objects.values_list("pk", flat=True)) == [real.patient_id]


def test_a_fresh_database_becomes_a_developers_and_takes_every_tool_without_force():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()

    call_command("benchmark_pages", calls=20, runs=1, stdout=out)

    assert out.getvalue().startswith("seeded 20 calls in ")
    assert list(DeveloperRun.objects.values_list("command", flat=True)) == ["seed_demo", "benchmark_pages"]
    assert Discharge.objects.count() == 300
