"""Demo ward mappings for ``manage.py seed_demo``. Idempotent."""

from calls.models import Department
from interop.models import Kind, WardMapping


def seed_ward_mappings(stdout) -> None:
    """FHIR bundles without a Location (Synthea) land in general surgery; the
    HL7 sample messages' ward HUH AE OMU in cardiology."""
    departments = {d.code: d for d in Department.objects.filter(code__in=["GSUR", "CARD"])}
    wanted = [(Kind.FHIR, WardMapping.DEFAULT_CODE, "GSUR"), (Kind.HL7, "HUH AE OMU", "CARD")]
    for kind, code, department_code in wanted:
        if department_code in departments:
            WardMapping.objects.get_or_create(
                kind=kind, sender="", code=code, defaults={"department": departments[department_code]}
            )
