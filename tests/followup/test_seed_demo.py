import pytest
from django.core.management import CommandError, call_command

from followup.models import User
from followup.roles import Role, roles_of


def snapshot():
    return list(User.objects.order_by("username").values_list("username", "password", "display_name", "is_staff"))


@pytest.fixture(autouse=True)
def _debug_on(settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; seed_demo is a laptop command


@pytest.mark.django_db
def test_seed_demo_creates_one_log_in_per_role_and_prints_them(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    for username, role in [("nurse", Role.NURSE), ("headnurse", Role.HEAD_NURSE),
                           ("officer", Role.COMPLAINT_OFFICER), ("admin", Role.ADMIN)]:
        assert roles_of(User.objects.get(username=username)) == {role}
        assert f"{username:<10} / followup-demo" in out


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing_the_second_time():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")
    assert User.objects.count() == 0
