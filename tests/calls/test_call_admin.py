import pytest
from django.urls import reverse

from calls.models import CallAttempt, ClinicalAlert, FollowUpCall
from tests.calls.call_work_helpers import NOW, make_call, ward_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_admin_lists_and_searches_calls_attempts_and_alerts(client_for, superuser):
    call = make_call(department=ward_of(), patient__name="Searchable Name")
    CallAttempt.objects.create(call=call, nurse=superuser, started_at=NOW, result="busy")
    ClinicalAlert.objects.create(call=call, raised_at=NOW, due_at=NOW, reason="pain")
    client = client_for(superuser)

    for model in ("followupcall", "callattempt", "clinicalalert", "spotcheck"):
        assert client.get(reverse(f"admin:calls_{model}_changelist"), {"q": "Searchable"}).status_code == 200
    assert client.get(reverse("admin:calls_followupcall_change", args=[call.pk])).status_code == 200


def test_admin_never_deletes_calls(client_for, superuser):
    call = make_call(department=ward_of())
    response = client_for(superuser).post(reverse("admin:calls_followupcall_delete", args=[call.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert FollowUpCall.objects.filter(pk=call.pk).exists()


def test_nurse_cannot_open_the_admin(client_for, nurse):
    response = client_for(nurse).get(reverse("admin:calls_followupcall_changelist"))
    assert response.status_code == 302
