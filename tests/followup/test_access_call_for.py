"""access.call_for reads the call by its key and then applies visible_calls'
rules in Python: it returns exactly the calls visible_calls holds, for
every role, ward and assignment, with a deceased patient's calls left out
unless asked for, and 404 for all others. access.calls_in_visible_stays
holds exactly the calls of the stays visible_discharges holds."""

import pytest
from django.http import Http404

from calls.models import FollowUpCall
from followup import access
from followup.roles import Role
from tests.factories import DepartmentFactory, FollowUpCallFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ward, other_ward = DepartmentFactory(code="CARD"), DepartmentFactory(code="ONCO")
    users = {
        "nurse": UserFactory(roles=[Role.NURSE]),
        "ward colleague": UserFactory(roles=[Role.NURSE]),
        "other ward's nurse": UserFactory(roles=[Role.NURSE]),
        "head nurse": UserFactory(roles=[Role.HEAD_NURSE]),
        "other ward's head nurse": UserFactory(roles=[Role.HEAD_NURSE]),
        "nurse and head nurse": UserFactory(roles=[Role.NURSE, Role.HEAD_NURSE]),
        "officer": UserFactory(roles=[Role.COMPLAINT_OFFICER]),
        "administrator": UserFactory(roles=[Role.ADMIN]),
        "superuser": UserFactory(is_superuser=True),
        "nobody": UserFactory(),
    }
    for name in ("nurse", "ward colleague", "head nurse", "nurse and head nurse"):
        ward.staff.add(users[name])
    for name in ("other ward's nurse", "other ward's head nurse"):
        other_ward.staff.add(users[name])
    calls = {
        "hers": FollowUpCallFactory(discharge__department=ward, assigned_to=users["nurse"]),
        "her colleague's": FollowUpCallFactory(discharge__department=ward, assigned_to=users["ward colleague"]),
        "unassigned in her ward": FollowUpCallFactory(discharge__department=ward),
        "unassigned elsewhere": FollowUpCallFactory(discharge__department=other_ward),
        "hers, in another ward": FollowUpCallFactory(discharge__department=other_ward, assigned_to=users["nurse"]),
        "hers, patient deceased": FollowUpCallFactory(
            discharge__department=ward, assigned_to=users["nurse"], discharge__patient__deceased=True
        ),
    }
    return users, calls


@pytest.mark.parametrize("include_deceased", [False, True])
def test_call_for_returns_exactly_the_calls_visible_calls_holds(world, include_deceased):
    users, calls = world
    seen_somewhere = set()

    for user_name, user in users.items():
        visible = set(access.visible_calls(user, include_deceased=include_deceased).values_list("pk", flat=True))
        for call_name, call in calls.items():
            try:
                got = access.call_for(user, call.pk, include_deceased=include_deceased, related=("discharge",))
            except Http404:
                got = None
            assert (got is not None) == (call.pk in visible), (user_name, call_name)
            if got is not None:
                assert got.pk == call.pk
                seen_somewhere.add(call_name)

    assert ("hers, patient deceased" in seen_somewhere) == include_deceased
    assert "unassigned elsewhere" in seen_somewhere


def test_calls_in_visible_stays_are_the_calls_of_the_visible_stays(world):
    users, calls = world

    for user_name, user in users.items():
        expected = set(
            FollowUpCall.objects.filter(discharge__in=access.visible_discharges(user)).values_list("pk", flat=True)
        )
        assert set(access.calls_in_visible_stays(user).values_list("pk", flat=True)) == expected, user_name
    assert set(access.calls_in_visible_stays(users["nurse"]).values_list("pk", flat=True)) == {
        calls[name].pk for name in ("hers", "her colleague's", "unassigned in her ward", "hers, patient deceased")
    }


def test_a_call_that_does_not_exist_is_404(world):
    users, _calls = world

    with pytest.raises(Http404):
        access.call_for(users["superuser"], 999_999)
