import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from complaints.models import Complaint, ComplaintEvent
from followup.models import Notification


@pytest.fixture(autouse=True)
def _debug_on(settings):
    settings.DEBUG = True


@pytest.mark.django_db
def test_seed_demo_adds_complaints_mostly_about_attitude_and_mostly_settled_on_the_spot():
    call_command("seed_demo", stdout=io.StringIO())
    total = Complaint.objects.count()
    by_category = dict(Complaint.objects.values_list("category__code").annotate(n=Count("pk")))
    assert total == 60
    assert by_category["attitude"] == max(by_category.values())
    assert set(by_category) <= {"attitude", "doctor", "nursing", "fees", "logistics", "insurance", "pharmacy"}
    assert Complaint.objects.filter(settled_on_the_spot=True).count() > total * 0.7
    assert set(Complaint.objects.values_list("departments__code", flat=True)) == {"CARD", "BRST", "ONCO", "GSUR"}


@pytest.mark.django_db
def test_seed_demo_twice_adds_no_more_complaints():
    call_command("seed_demo", stdout=io.StringIO())
    first = list(Complaint.objects.order_by("reference").values_list("reference", "status", "category__code"))
    call_command("seed_demo", stdout=io.StringIO())
    assert list(Complaint.objects.order_by("reference").values_list("reference", "status", "category__code")) == first


@pytest.mark.django_db
def test_seed_demo_flags_the_open_complaints_already_past_their_deadline():
    call_command("seed_demo", stdout=io.StringIO())
    running = Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES, waiting_on_complainant=False)
    overdue = running.filter(resolved_at__isnull=True, resolution_due__lt=timezone.now())
    assert overdue.exists()
    assert list(overdue.filter(resolution_breached=False)) == []
    breaches = ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.SLA_BREACH).count()
    assert breaches >= overdue.count()
    late_notices = Notification.objects.filter(
        recipient__username="officer", message_key__in=["first_response_late", "resolution_late", "reply_late"]
    )
    assert late_notices.count() == breaches
