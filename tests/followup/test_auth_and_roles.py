import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from followup.roles import ROLE_PERMISSIONS, Role, sync_roles
from tests.factories import TEST_PASSWORD

PAGES = ["home", "calls:worklist", "calls:dashboard", "complaints:list", "password_change"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", PAGES)
def test_anonymous_visitor_is_sent_to_log_in(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db  # declared: pytest-django cannot see the user fixtures requested by name
@pytest.mark.parametrize(
    ("user_fixture", "home"),
    [
        ("nurse", "/calls/"),
        ("head_nurse", "/calls/dashboard/"),
        ("officer", "/complaints/"),
        ("admin_user", "/admin/"),
    ],
)
def test_log_in_lands_each_role_on_its_home(client, request, user_fixture, home):
    user = request.getfixturevalue(user_fixture)
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_wrong_password_is_refused_with_a_message(client, nurse):
    response = client.post(reverse("login"), {"username": nurse.username, "password": "wrong-password"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_user_without_role_is_told_to_ask_for_one(client_for, no_role_user):
    response = client_for(no_role_user).get(reverse("home"))
    assert response.status_code == 403
    assert "Your account has no role in the follow-up desk yet" in response.content.decode()


@pytest.mark.django_db  # declared: pytest-django cannot see the user fixtures requested by name
@pytest.mark.parametrize(
    ("user_fixture", "url_name", "status"),
    [
        ("nurse", "calls:worklist", 200),
        ("nurse", "calls:dashboard", 403),
        ("nurse", "complaints:list", 200),
        ("head_nurse", "calls:worklist", 200),
        ("head_nurse", "calls:dashboard", 200),
        ("officer", "calls:worklist", 403),
        ("officer", "calls:dashboard", 403),
        ("officer", "complaints:list", 200),
        ("no_role_user", "calls:worklist", 403),
        ("no_role_user", "calls:dashboard", 403),
        ("no_role_user", "complaints:list", 403),
    ],
)
def test_pages_answer_only_their_roles(client_for, request, user_fixture, url_name, status):
    user = request.getfixturevalue(user_fixture)
    assert client_for(user).get(reverse(url_name)).status_code == status


@pytest.mark.parametrize("user_fixture", ["nurse", "head_nurse", "officer", "no_role_user"])
def test_admin_site_is_closed_to_other_roles(client_for, request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    response = client_for(user).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_role_opens_the_admin_site(client_for, admin_user):
    assert client_for(admin_user).get(reverse("admin:index")).status_code == 200


def test_navigation_shows_only_the_roles_links(client_for, nurse):
    html = client_for(nurse).get(reverse("calls:worklist")).content.decode()
    assert f'href="{reverse("calls:worklist")}"' in html
    assert f'href="{reverse("complaints:list")}"' in html
    assert f'href="{reverse("calls:dashboard")}"' not in html
    assert f'href="{reverse("admin:index")}"' not in html


def test_password_change_works_and_the_new_password_logs_in(client, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Quiet-Ward-Seven-42", "new_password2": "Quiet-Ward-Seven-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": nurse.username, "password": "Quiet-Ward-Seven-42"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_password_change_refuses_a_weak_password_and_keeps_the_old(client, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345", "new_password2": "12345"},
    )
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD) is True


@pytest.mark.django_db
def test_role_groups_exist_with_their_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(perms)
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.mark.django_db
def test_syncing_roles_with_the_live_app_registry_leaves_it_working():
    from django.apps import apps

    before = {config.label: config.models_module for config in apps.get_app_configs()}
    sync_roles(apps)
    assert {config.label: config.models_module for config in apps.get_app_configs()} == before
