import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from complaints import services
from complaints.models import Category, Complaint
from followup.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def promise(make_complaint, officer):
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC), tick=False):
        return services.promise_add(
            complaint=make_complaint(), by=officer, what="Call back", owner=officer, due_on=dt.date(2030, 1, 4)
        )


def test_only_officer_head_nurse_or_its_owner_may_mark_a_promise_delivered(
    client_for, promise, nurse, no_role_user, head_nurse
):
    url = reverse("complaints:promise_deliver", args=[promise.complaint_id, promise.pk])
    data = {"deliver-delivered_on": "2026-01-05"}
    assert client_for(no_role_user).post(url, data).status_code == 403
    assert client_for(nurse).post(url, data).status_code == 403
    assert client_for(head_nurse).post(url, data).status_code == 302
    promise.refresh_from_db()
    assert (promise.delivered_on, promise.delivered_by) == (dt.date(2026, 1, 5), head_nurse)


def test_xlsx_export_is_refused_to_nurses(client_for, nurse):
    assert client_for(nurse).get(reverse("complaints:report_xlsx")).status_code == 403


def test_roles_hold_the_complaint_permissions_they_need(nurse, head_nurse, officer, admin_user):
    assert nurse.has_perm("complaints.add_complaint") and not nurse.has_perm("complaints.change_complaint")
    assert head_nurse.has_perm("complaints.view_complaint_report")
    assert officer.has_perm("complaints.change_promise")
    assert not officer.has_perm("complaints.delete_complaint")
    assert not officer.has_perm("complaints.delete_complaintevent")
    assert admin_user.has_perm("complaints.change_slapolicy") and admin_user.has_perm("complaints.add_holiday")
    assert not admin_user.has_perm("complaints.view_complaint")


def test_admin_configures_categories_but_complaints_are_read_only_there(client_for, make_complaint):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(superuser)
    complaint = make_complaint()
    assert client.get(reverse("admin:complaints_category_add")).status_code == 200
    assert client.get(reverse("admin:complaints_complaint_add")).status_code == 403
    response = client.post(reverse("admin:complaints_complaint_change", args=[complaint.pk]), {"description": "x"})
    assert response.status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).description == "The nurse did not explain the discharge medicines."


def test_migrate_seeds_the_categories_in_english_and_chinese(db):
    assert list(Category.objects.values_list("code", "name_zh"))[:3] == [
        ("attitude", "服务态度、解释不到位、沟通"),
        ("doctor", "医生责任心、诊疗"),
        ("nursing", "护理"),
    ]
    assert Category.objects.count() == 13


def test_category_name_follows_the_language(db):
    from django.utils import translation

    fees = Category.objects.get(code="fees")
    with translation.override("zh-hans"):
        assert str(fees) == "收费"
    with translation.override("en"):
        assert str(fees) == "Fees"


def test_a_second_officer_sees_every_complaint(client_for, make_complaint, other_ward):
    make_complaint(departments=[other_ward])
    second = UserFactory(username="frank", roles=[Role.COMPLAINT_OFFICER])
    assert len(client_for(second).get(reverse("complaints:list")).context["page"]) == 1
