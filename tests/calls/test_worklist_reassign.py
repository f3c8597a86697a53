import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls.models import FollowUpCall
from calls.services.call_work import calls_reassign
from followup.roles import Role
from tests.calls.call_work_helpers import make_call, ward_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("calls:reassign")


def test_head_nurse_reassigns_selected_calls_in_bulk(client_for, head_nurse, nurse):
    colleague = UserFactory(username="erin", roles=[Role.NURSE])
    ward = ward_of(head_nurse, nurse, colleague)
    first, second, kept = (make_call(department=ward, nurse=nurse) for _n in range(3))

    response = client_for(head_nurse).post(URL, {"calls": [first.pk, second.pk], "to": colleague.pk})

    assert response.status_code == 302
    assert list(FollowUpCall.objects.order_by("pk").values_list("assigned_to__username", "version")) == [
        ("erin", 2),
        ("erin", 2),
        ("alice", 1),
    ]
    assert kept.pk == FollowUpCall.objects.filter(assigned_to=nurse).get().pk


def test_reassigning_to_a_nurse_of_another_ward_is_refused(head_nurse, nurse):
    ward = ward_of(head_nurse)
    ward_of(nurse, code="ONCO")
    call = make_call(department=ward)

    with pytest.raises(ValidationError):
        calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=nurse, by=head_nurse)

    call.refresh_from_db()
    assert call.assigned_to is None


def test_head_nurse_cannot_reassign_calls_outside_her_wards(client_for, head_nurse, nurse):
    ward_of(head_nurse, nurse)
    foreign = make_call(department=ward_of(code="ONCO"))

    client_for(head_nurse).post(URL, {"calls": [foreign.pk], "to": nurse.pk})

    foreign.refresh_from_db()
    assert foreign.assigned_to is None


def test_worklist_offers_reassignment_to_head_nurse_only(client_for, head_nurse, nurse):
    ward_of(head_nurse, nurse)
    assert client_for(head_nurse).get(reverse("calls:worklist")).context["reassign_form"] is not None
    assert client_for(nurse).get(reverse("calls:worklist")).context["reassign_form"] is None


def test_nurse_is_refused_reassignment(client_for, nurse):
    call = make_call(department=ward_of(nurse))
    assert client_for(nurse).post(URL, {"calls": [call.pk], "to": nurse.pk}).status_code == 403
