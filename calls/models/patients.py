from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel

from ..risk import RiskTier


class Patient(BaseModel):
    """A person discharged from the hospital. Never deleted: archived instead."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        UNKNOWN = "U", _("Unknown")

    class Education(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        NONE = "none", _("No schooling")
        PRIMARY = "primary", _("Primary school")
        MIDDLE = "middle", _("Middle school")
        HIGH = "high", _("High school")
        COLLEGE = "college", _("College or above")

    class CommunicationNeed(models.TextChoices):
        HARD_OF_HEARING = "hearing", _("Hard of hearing or poor memory: repeat, speak slowly")
        IRRITABLE = "irritable", _("Irritable: listen first, never argue")
        LOW_MOOD = "low_mood", _("Slow or depressed: be patient and warm")
        ANXIOUS = "anxious", _("Anxious or pessimistic: comfort")
        LOW_CONFIDENCE = "low_confidence", _("Low confidence: give examples of recovered patients")
        PREFERS_FAMILY = "prefers_family", _("Prefers a family member on the phone")
        DIALECT = "dialect", _("Speaks a dialect")

    mrn = models.CharField(_("inpatient number (MRN)"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("Stored in international format."))
    phone_needs_correction = models.BooleanField(_("phone needs correction"), default=False)
    family_name = models.CharField(_("family member's name"), max_length=100, blank=True)
    family_relation = models.CharField(_("family member's relation"), max_length=50, blank=True)
    family_phone = models.CharField(_("family member's phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    education = models.CharField(_("education level"), max_length=20, choices=Education.choices, blank=True)
    communication_needs = models.JSONField(_("communication needs"), default=list, blank=True)
    communication_notes = models.TextField(_("communication notes"), blank=True)
    preferred_call_time = models.TimeField(_("preferred time of day for calls"), null=True, blank=True)
    # Recorded as died (calls.DeathRecord holds who said so, and when); the
    # date may be unknown. Kept here too: the worklist leaves out the calls
    # of the deceased (followup.access.visible_calls).
    deceased = models.BooleanField(_("died"), default=False)
    deceased_on = models.DateField(_("died on"), null=True, blank=True, help_text=_("Empty when the date is unknown."))
    declined_calls_on = models.DateField(_("asked for no more calls on"), null=True, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    # Two records of one person joined (an HL7 A40 merge): this record's stays
    # and complaints moved to the surviving one; it stays, archived, so its
    # MRN still finds her and its audit trail still counts as hers.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_patients",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "mrn"]
        indexes = [
            # The worklist leaves out the (few) deceased: their stays, found from here, are hashed once.
            models.Index(fields=["deceased"], condition=Q(deceased=True), name="patient_deceased_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deceased=True) | Q(deceased_on__isnull=True), name="patient_death_date_only_if_died"
            ),
        ]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self) -> str:
        return f"{self.name} ({self.mrn})"

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday

    @property
    def callable(self) -> bool:
        """False once the patient died or asked for no more calls."""
        return not self.deceased and self.declined_calls_on is None and not self.archived


class Discharge(BaseModel):
    """One hospital stay ending in discharge; the follow-up calls hang off it.
    Identified by patient + admission date (re-importing updates it)."""

    class NursingLevel(models.TextChoices):
        SPECIAL = "special", _("Special care (特级护理)")
        LEVEL_1 = "1", _("Level I (一级护理)")
        LEVEL_2 = "2", _("Level II (二级护理)")
        LEVEL_3 = "3", _("Level III (三级护理)")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Typed in")
        IMPORT = "import", _("File import")
        HL7 = "hl7", _("HL7 v2 message")
        FHIR = "fhir", _("FHIR bundle")

    class AdmissionType(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency")
        ELECTIVE = "elective", _("Elective")
        TRANSFER = "transfer", _("Transfer from another hospital")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="discharges", verbose_name=_("patient"))
    department = models.ForeignKey(
        "calls.Department", on_delete=models.PROTECT, related_name="discharges", verbose_name=_("department")
    )
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"))
    diagnosis = models.CharField(_("diagnosis"), max_length=255)
    icd10 = models.CharField(_("ICD-10 code"), max_length=16, blank=True)
    admission_type = models.CharField(
        _("admission type"), max_length=10, choices=AdmissionType.choices, blank=True, help_text=_("Blank: not known.")
    )
    # Secondary diagnoses as ICD-10 codes, in the order the source gave them.
    secondary_icd10 = models.JSONField(_("secondary diagnoses (ICD-10)"), default=list, blank=True)
    # Emergency visits in the six months before admission as a person or a
    # file reported them (None: not reported; visits the feeds record are
    # counted from Visit instead).
    reported_emergency_visits = models.PositiveSmallIntegerField(
        _("emergency visits in the 6 months before admission"), null=True, blank=True
    )
    # The readmission risk worked out at registration (calls.risk): the total
    # (None when a component is unknown), its lower bound, the tier, and
    # each component with where it came from.
    risk_score = models.PositiveSmallIntegerField(_("readmission risk (LACE)"), null=True, blank=True)
    risk_lower_bound = models.PositiveSmallIntegerField(_("readmission risk, at least"), default=0)
    risk_tier = models.CharField(
        _("readmission risk tier"), max_length=10, choices=RiskTier.choices, default=RiskTier.UNKNOWN
    )
    risk_detail = models.JSONField(_("readmission risk detail"), default=dict, blank=True)
    # The outcome ledger (calls.risk.outcomes, docs/outcomes.md): what happened
    # in the month after this discharge, as the desk knows it; worked out
    # again whenever a later stay, visit or death arrives or is corrected.
    readmitted_unplanned_31 = models.BooleanField(_("unplanned readmission within 0-31 days"), default=False)
    readmitted_30 = models.BooleanField(_("readmitted within 30 days (any cause)"), default=False)
    emergency_visit_30 = models.BooleanField(_("emergency visit within 30 days"), default=False)
    died_30 = models.BooleanField(_("died within 30 days"), default=False)
    attending_doctor = models.CharField(_("attending doctor"), max_length=100, blank=True)
    responsible_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_discharges",
        verbose_name=_("responsible nurse"),
    )
    nursing_level = models.CharField(_("nursing level"), max_length=10, choices=NursingLevel.choices, blank=True)
    condition_at_discharge = models.TextField(_("condition at discharge"), blank=True)
    open_problems = models.TextField(_("problems open at discharge"), blank=True)
    told_about_followup = models.BooleanField(_("patient was told about the follow-up calls"), default=False)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_reference = models.CharField(_("source reference"), max_length=200, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-discharged_on", "patient__name"]
        verbose_name = _("discharge")
        verbose_name_plural = _("discharges")
        constraints = [
            models.UniqueConstraint(fields=["patient", "admitted_on"], name="discharge_unique_patient_admission"),
            models.CheckConstraint(
                condition=Q(discharged_on__gte=F("admitted_on")), name="discharge_not_before_admission"
            ),
        ]
        indexes = [models.Index(fields=["department", "discharged_on"], name="discharge_dept_date_idx")]

    def __str__(self) -> str:
        return f"{self.patient} · {self.department} · {self.discharged_on:%Y-%m-%d}"


class Visit(BaseModel):
    """A hospital visit that is not a stay the desk follows up: an emergency
    department visit (HL7 patient class E, FHIR EMER encounter). Counted by
    the risk score (LACE's E) and by the outcome ledger."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency department visit")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits", verbose_name=_("patient"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.EMERGENCY)
    visited_on = models.DateField(_("visited on"))
    source = models.CharField(_("source"), max_length=10, choices=Discharge.Source.choices)
    source_reference = models.CharField(_("source reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-visited_on"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            # One emergency visit a day counts once, however often a feed repeats it.
            models.UniqueConstraint(fields=["patient", "kind", "visited_on"], name="visit_unique_patient_kind_day"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.get_kind_display()} · {self.visited_on:%Y-%m-%d}"
