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
    for username, role in [
        ("nurse", Role.NURSE),
        ("headnurse", Role.HEAD_NURSE),
        ("officer", Role.COMPLAINT_OFFICER),
        ("admin", Role.ADMIN),
    ]:
        assert roles_of(User.objects.get(username=username)) == {role}
        assert f"{username:<10} / followup-demo" in out


def row_counts() -> dict[str, int]:
    from django.apps import apps

    # Every run adds its DeveloperRun row (followup/devtools/guard.py) and its audit rows.
    skip = {"followup.auditevent", "sessions.session", "axes.accesslog", "axes.accessattempt", "devtools.developerrun"}
    return {
        m._meta.label_lower: m.objects.count()
        for m in apps.get_models()
        if m._meta.label_lower not in skip and not m._meta.proxy
    }


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing_the_second_time():
    call_command("seed_demo")
    first, first_counts = snapshot(), row_counts()
    call_command("seed_demo")
    assert snapshot() == first
    assert row_counts() == first_counts
    assert first_counts["calls.followupcall"] > 300
    assert first_counts["complaints.complaint"] > 0


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_prints_the_address_make_run_serves(capsys):
    call_command("seed_demo", "--site-url", "http://127.0.0.1:8100/")
    out = capsys.readouterr().out
    assert "Log in at http://127.0.0.1:8100/ as:" in out
    assert "8000" not in out
