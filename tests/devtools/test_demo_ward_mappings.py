import pytest
from django.core.management import call_command

from interop.models import FeedSender, WardMapping


@pytest.mark.django_db
def test_demo_seed_maps_the_fhir_default_and_the_sample_ward(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")

    assert sorted(WardMapping.objects.values_list("kind", "code", "department__code")) == [
        ("fhir", "*", "GSUR"),
        ("hl7", "HUH AE OMU", "CARD"),
    ]
    assert list(FeedSender.objects.values_list("kind", "name", "discharge_classes")) == [
        ("hl7", "ADTApp/GHHSFacility", "I,P")
    ]
