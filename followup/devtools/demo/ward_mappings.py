"""Demo ward mappings for ``manage.py seed_demo``. Idempotent."""

from calls.models import Department
from interop.models import FeedSender, Kind, WardMapping

# The public HL7 samples (tests/interop/samples) describe stays of patient
# class P (preadmit): their sender takes P as a discharge class, so the
# samples sent to `make run`'s listener register as the tests show.
SAMPLE_SENDER = "ADTApp/GHHSFacility"


def seed_ward_mappings(stdout) -> None:
    """FHIR bundles without a Location (Synthea) land in general surgery; the
    HL7 sample messages' ward HUH AE OMU in cardiology, their sender taking
    classes I and P."""
    FeedSender.objects.get_or_create(kind=Kind.HL7, name=SAMPLE_SENDER, defaults={"discharge_classes": "I,P"})
    departments = {d.code: d for d in Department.objects.filter(code__in=["GSUR", "CARD"])}
    wanted = [(Kind.FHIR, WardMapping.DEFAULT_CODE, "GSUR"), (Kind.HL7, "HUH AE OMU", "CARD")]
    for kind, code, department_code in wanted:
        if department_code in departments:
            WardMapping.objects.get_or_create(
                kind=kind, sender="", code=code, defaults={"department": departments[department_code]}
            )
