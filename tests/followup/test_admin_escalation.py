"""Nobody grants more than they hold (issue 14): an administrator who is not
a superuser manages nurses, head nurses and complaint officers and their
departments, and nothing more; every escalation is refused with the database
left as it was."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from followup.models import AuditEvent, User
from followup.roles import Role
from tests.factories import TEST_PASSWORD, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SUPERUSER_ONLY_ERROR = "Only a superuser may change superuser or staff status or give permissions."


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def ward():
    return DepartmentFactory(code="CARD", name="Cardiology")


def group_id(role: str) -> int:
    return Group.objects.get(name=str(role)).pk


def change_url(user) -> str:
    return reverse("admin:followup_user_change", args=[user.pk])


def form_data(user, **overrides) -> dict:
    """What the change page posts for ``user`` as an administrator sees it."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "display_name": user.display_name,
        "grade": user.grade,
        "phone": user.phone,
        "groups": [g.pk for g in user.groups.all()],
        "departments": [d.pk for d in user.departments.all()],
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update(overrides)
    return data


def superuser_form_data(user, **overrides) -> dict:
    data = form_data(user, date_joined_0="2024-01-02", date_joined_1="08:00:00")
    data.update(overrides)
    return data


def snapshot(user) -> dict:
    """Everything an escalation could touch on a user's row and relations
    (not last_login, which logging the test client in moves)."""
    user = User.objects.get(pk=user.pk)
    row = User.objects.filter(pk=user.pk).values().get()
    del row["last_login"]
    return {
        "row": row,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(user.user_permissions.values_list("codename", flat=True)),
        "departments": sorted(user.departments.values_list("code", flat=True)),
    }


def user_audit_count(user) -> int:
    # The admin's own record of a saved user (page-level rows carry no field names).
    return AuditEvent.objects.filter(object_type="user", object_id=str(user.pk)).exclude(fields="").count()


# --- the form an administrator sees ------------------------------------------------


def test_admin_role_form_has_no_superuser_staff_or_permission_fields(client_for, admin_user, nurse):
    response = client_for(admin_user).get(change_url(nurse))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert sorted(form.fields) == [
        "departments",
        "display_name",
        "email",
        "first_name",
        "grade",
        "groups",
        "is_active",
        "last_name",
        "password",
        "phone",
        "username",
    ]
    assert sorted(form.fields["groups"].queryset.values_list("name", flat=True)) == [
        "complaint_officer",
        "head_nurse",
        "nurse",
    ]


def test_superuser_form_keeps_every_field(client_for, superuser, nurse):
    form = client_for(superuser).get(change_url(nurse)).context["adminform"].form

    assert {"is_staff", "is_superuser", "user_permissions", "groups", "departments"} <= set(form.fields)
    assert sorted(form.fields["groups"].queryset.values_list("name", flat=True)) == [
        "admin",
        "complaint_officer",
        "head_nurse",
        "nurse",
    ]


# --- escalations, each refused with nothing changed ---------------------------------


def test_admin_role_making_itself_superuser_is_refused(client_for, admin_user):
    before = snapshot(admin_user)

    response = client_for(admin_user).post(change_url(admin_user), form_data(admin_user, is_superuser="on"))

    assert response.status_code == 403
    assert snapshot(admin_user) == before


@pytest.mark.parametrize(
    "forged",
    [
        {"is_superuser": "on"},
        {"is_staff": "on"},
        {"is_superuser": "on", "is_staff": "on"},
    ],
)
def test_admin_role_setting_superuser_or_staff_on_a_nurse_is_refused(client_for, admin_user, nurse, forged):
    before = snapshot(nurse)

    response = client_for(admin_user).post(
        change_url(nurse), form_data(nurse, display_name="Renamed meanwhile", **forged)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [SUPERUSER_ONLY_ERROR]
    assert snapshot(nurse) == before
    assert user_audit_count(nurse) == 0


def test_admin_role_giving_a_nurse_a_permission_of_her_own_is_refused(client_for, admin_user, nurse):
    delete_patient = Permission.objects.get(codename="view_auditevent")
    before = snapshot(nurse)

    response = client_for(admin_user).post(change_url(nurse), form_data(nurse, user_permissions=[delete_patient.pk]))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [SUPERUSER_ONLY_ERROR]
    assert snapshot(nurse) == before


def test_admin_role_adding_the_admin_group_to_itself_is_refused(client_for, admin_user):
    before = snapshot(admin_user)
    data = form_data(admin_user, groups=[group_id(Role.ADMIN), group_id(Role.COMPLAINT_OFFICER)])

    response = client_for(admin_user).post(change_url(admin_user), data)

    assert response.status_code == 403
    assert snapshot(admin_user) == before


def test_admin_role_adding_the_admin_group_to_a_nurse_is_refused(client_for, admin_user, nurse):
    before = snapshot(nurse)

    response = client_for(admin_user).post(
        change_url(nurse), form_data(nurse, groups=[group_id(Role.NURSE), group_id(Role.ADMIN)])
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == [
        f"Select a valid choice. {group_id(Role.ADMIN)} is not one of the available choices."
    ]
    assert snapshot(nurse) == before


def test_admin_role_adding_a_group_outside_the_roles_is_refused(client_for, admin_user, nurse):
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_auditevent"))
    before = snapshot(nurse)

    response = client_for(admin_user).post(change_url(nurse), form_data(nurse, groups=[auditors.pk]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == [
        f"Select a valid choice. {auditors.pk} is not one of the available choices."
    ]
    assert snapshot(nurse) == before


def test_hostile_group_value_is_refused(client_for, admin_user, nurse):
    before = snapshot(nurse)

    response = client_for(admin_user).post(change_url(nurse), form_data(nurse, groups=["0 OR 1=1"]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == ["“0 OR 1=1” is not a valid value."]
    assert snapshot(nurse) == before


def test_admin_role_editing_a_superuser_is_refused(client_for, admin_user, superuser):
    before = snapshot(superuser)
    client = client_for(admin_user)

    response = client.post(change_url(superuser), superuser_form_data(superuser, is_active=""))
    password = client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "Taken-Over-Now-99", "password2": "Taken-Over-Now-99"},
    )

    assert response.status_code == 403
    assert password.status_code == 403
    assert snapshot(superuser) == before


def test_admin_role_sees_a_superuser_read_only(client_for, admin_user, superuser):
    response = client_for(admin_user).get(change_url(superuser))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert "is_superuser" not in response.content.decode()


def test_admin_role_editing_another_administrator_is_refused(client_for, admin_user):
    other = UserFactory(username="erin", roles=[Role.ADMIN])
    before = snapshot(other)
    client = client_for(admin_user)

    response = client.post(change_url(other), form_data(other, groups=[group_id(Role.NURSE)], is_active=""))
    password = client.post(
        reverse("admin:auth_user_password_change", args=[other.pk]),
        {"password1": "Taken-Over-Now-99", "password2": "Taken-Over-Now-99"},
    )

    assert response.status_code == 403
    assert password.status_code == 403
    assert snapshot(other) == before


@pytest.mark.parametrize("extra", ["staff", "permission", "group"])
def test_admin_role_cannot_edit_a_nurse_holding_more_than_the_roles(client_for, admin_user, extra):
    nurse = UserFactory(username="fay", roles=[Role.NURSE])
    if extra == "staff":
        User.objects.filter(pk=nurse.pk).update(is_staff=True)
    elif extra == "permission":
        nurse.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    else:
        nurse.groups.add(Group.objects.create(name="auditors"))
    before = snapshot(nurse)

    response = client_for(admin_user).post(change_url(nurse), form_data(nurse, groups=[group_id(Role.NURSE)]))

    assert response.status_code == 403
    assert snapshot(nurse) == before


def test_admin_role_creating_an_administrator_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:followup_user_add"),
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": "Quiet-Ward-Seven-42",
            "password2": "Quiet-Ward-Seven-42",
            "grade": "other",
            "groups": [group_id(Role.ADMIN)],
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == [
        f"Select a valid choice. {group_id(Role.ADMIN)} is not one of the available choices."
    ]
    assert User.objects.filter(username="mallory").exists() is False


def test_admin_role_creating_a_superuser_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:followup_user_add"),
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": "Quiet-Ward-Seven-42",
            "password2": "Quiet-Ward-Seven-42",
            "grade": "other",
            "is_superuser": "on",
            "is_staff": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [SUPERUSER_ONLY_ERROR]
    assert User.objects.filter(username="mallory").exists() is False


def test_admin_role_cannot_change_a_groups_permissions(client_for, admin_user):
    nurses = Group.objects.get(name=str(Role.NURSE))
    before = sorted(nurses.permissions.values_list("pk", flat=True))
    client = client_for(admin_user)

    change = client.post(
        reverse("admin:auth_group_change", args=[nurses.pk]),
        {"name": "nurse", "permissions": [p.pk for p in Permission.objects.all()]},
    )
    add = client.post(
        reverse("admin:auth_group_add"),
        {"name": "everything", "permissions": [p.pk for p in Permission.objects.all()]},
    )
    page = client.get(reverse("admin:auth_group_change", args=[nurses.pk]))

    assert change.status_code == 403
    assert add.status_code == 403
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert sorted(nurses.permissions.values_list("pk", flat=True)) == before
    assert Group.objects.filter(name="everything").exists() is False


# --- the allowed paths ------------------------------------------------------------------


def test_admin_role_creates_a_nurse_with_her_role_and_department(client_for, admin_user, ward):
    response = client_for(admin_user).post(
        reverse("admin:followup_user_add"),
        {
            "username": "grace",
            "usable_password": "true",
            "password1": "Quiet-Ward-Seven-42",
            "password2": "Quiet-Ward-Seven-42",
            "display_name": "王护士 <b>Grace</b>",
            "grade": "nurse",
            "groups": [group_id(Role.NURSE)],
            "departments": [ward.pk],
        },
    )

    grace = User.objects.get(username="grace")
    assert response.status_code == 302
    assert response["Location"] == change_url(grace)
    assert snapshot(grace)["groups"] == ["nurse"]
    assert snapshot(grace)["departments"] == ["CARD"]
    assert (grace.is_staff, grace.is_superuser, grace.display_name) == (False, False, "王护士 <b>Grace</b>")
    assert grace.check_password("Quiet-Ward-Seven-42") is True
    assert user_audit_count(grace) == 1
    assert AuditEvent.objects.get(object_type="user", object_id=str(grace.pk)).actor == admin_user


def test_admin_role_changes_a_nurses_role_department_and_deactivates_her(client_for, admin_user, nurse, ward):
    other_ward = DepartmentFactory(code="ORTH", name="Orthopaedics")
    nurse.departments.add(ward)

    response = client_for(admin_user).post(
        change_url(nurse),
        form_data(nurse, groups=[group_id(Role.HEAD_NURSE)], departments=[other_ward.pk], is_active=""),
    )

    assert response.status_code == 302
    after = snapshot(nurse)
    assert after["groups"] == ["head_nurse"]
    assert after["departments"] == ["ORTH"]
    assert (after["row"]["is_active"], after["row"]["is_staff"], after["row"]["is_superuser"]) == (False, False, False)
    assert user_audit_count(nurse) == 1


def test_admin_role_resets_a_nurses_password(client_for, admin_user, nurse):
    response = client_for(admin_user).post(
        reverse("admin:auth_user_password_change", args=[nurse.pk]),
        {"password1": "Quiet-Ward-Seven-42", "password2": "Quiet-Ward-Seven-42"},
    )

    nurse.refresh_from_db()
    assert response.status_code == 302
    assert nurse.check_password("Quiet-Ward-Seven-42") is True
    assert nurse.check_password(TEST_PASSWORD) is False


def test_superuser_grants_superuser_admin_role_and_permissions(client_for, superuser, nurse):
    view_audit = Permission.objects.get(codename="view_auditevent")

    response = client_for(superuser).post(
        change_url(nurse),
        superuser_form_data(
            nurse,
            is_superuser="on",
            groups=[group_id(Role.NURSE), group_id(Role.ADMIN)],
            user_permissions=[view_audit.pk],
        ),
    )

    assert response.status_code == 302
    after = snapshot(nurse)
    assert after["groups"] == ["admin", "nurse"]
    assert after["permissions"] == ["view_auditevent"]
    assert (after["row"]["is_superuser"], after["row"]["is_staff"]) == (True, True)
    assert user_audit_count(nurse) == 1


def test_superuser_giving_the_admin_role_opens_the_admin_site(client_for, superuser, nurse):
    response = client_for(superuser).post(change_url(nurse), superuser_form_data(nurse, groups=[group_id(Role.ADMIN)]))

    nurse.refresh_from_db()
    assert response.status_code == 302
    assert nurse.is_staff is True


def test_superuser_edits_an_administrator_and_a_group(client_for, superuser, admin_user):
    client = client_for(superuser)
    nurses = Group.objects.get(name=str(Role.NURSE))
    view_audit = Permission.objects.get(codename="view_auditevent")

    user_response = client.post(change_url(admin_user), superuser_form_data(admin_user, is_staff="on", is_active=""))
    group_response = client.post(
        reverse("admin:auth_group_change", args=[nurses.pk]),
        {"name": "nurse", "permissions": [*nurses.permissions.values_list("pk", flat=True), view_audit.pk]},
    )

    admin_user.refresh_from_db()
    assert user_response.status_code == 302
    assert admin_user.is_active is False
    assert group_response.status_code == 302
    assert nurses.permissions.filter(pk=view_audit.pk).exists() is True


# --- roles without the admin site ---------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["no_role_user", "nurse"])
def test_users_without_the_admin_role_are_sent_away_from_the_user_and_group_admin(
    client_for, request, user_fixture, head_nurse
):
    user = request.getfixturevalue(user_fixture)
    client = client_for(user)
    before = snapshot(head_nurse)

    responses = [
        client.get(change_url(head_nurse)),
        client.post(change_url(head_nurse), form_data(head_nurse, is_superuser="on")),
        client.post(reverse("admin:followup_user_add"), {"username": "mallory"}),
        client.post(reverse("admin:auth_group_change", args=[group_id(Role.NURSE)]), {"name": "nurse"}),
    ]

    assert [r.status_code for r in responses] == [302, 302, 302, 302]
    assert all(r["Location"].startswith(reverse("admin:login")) for r in responses)
    assert snapshot(head_nurse) == before
    assert User.objects.filter(username="mallory").exists() is False


def test_staff_user_without_a_role_is_refused_the_user_admin(client_for, no_role_user, nurse):
    User.objects.filter(pk=no_role_user.pk).update(is_staff=True)
    before = snapshot(nurse)

    response = client_for(no_role_user).post(change_url(nurse), form_data(nurse, is_superuser="on"))

    assert response.status_code == 403
    assert snapshot(nurse) == before
