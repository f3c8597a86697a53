"""What the hospital information system sent us (HL7 v2 messages, FHIR
bundles), kept as received so an admin can see and reprocess it, and the
mapping from the hospital system's ward codes to our departments."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class Kind(models.TextChoices):
    HL7 = "hl7", _("HL7 v2 message")
    FHIR = "fhir", _("FHIR bundle")


class InboundMessage(BaseModel):
    """One message or bundle as received. Stored before it is acknowledged;
    never deleted. An HL7 message that was not refused is unique per sender
    and control id (MSH-10), so a message sent twice is recognised and not
    processed again; a refused one (status error) leaves its control id free,
    so the sender's corrected resend is processed anew."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting to be processed")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (nothing to do)")
        ERROR = "error", _("Error")

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    sender = models.CharField(_("sender"), max_length=200, blank=True)
    control_id = models.CharField(_("message control id"), max_length=200, blank=True)
    event_type = models.CharField(_("event type"), max_length=40, blank=True)
    payload = models.TextField(_("payload as received"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(_("error"), blank=True)
    warnings = models.TextField(_("warnings"), blank=True)
    discharge = models.ForeignKey(
        "calls.Discharge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("discharge"),
    )
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    # The patients an HL7 message is about (PID-3's MRN; a merge's MRG-1 too):
    # messages about one patient are processed in the order received.
    patient_key = models.CharField(_("patient MRN"), max_length=64, blank=True)
    other_patient_key = models.CharField(_("merged patient MRN"), max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sender", "control_id"],
                condition=~Q(control_id="") & ~Q(status="error"),
                name="inbound_message_unique_accepted_control_id",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received_idx"),
            # The messages still waiting for a patient, which go before a later one about her.
            models.Index(
                fields=["patient_key", "id"], condition=Q(status="received"), name="inbound_waiting_patient_idx"
            ),
            models.Index(
                fields=["other_patient_key", "id"], condition=Q(status="received"), name="inbound_waiting_merged_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_type} {self.control_id or self.pk}"


class WardMapping(BaseModel):
    """A ward or location code of the hospital system -> our department.

    HL7: the code is PV1-3 point of care (first component). FHIR: the
    Encounter's location or service provider (display name or reference).
    ``sender`` empty means any sender. The code ``*`` is the default for its
    kind (Synthea bundles carry no Location, so they need one)."""

    DEFAULT_CODE = "*"

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    sender = models.CharField(
        _("sender"), max_length=200, blank=True, help_text=_("Leave empty to match every sender.")
    )
    code = models.CharField(
        _("ward or location code"),
        max_length=200,
        help_text=_("HL7: PV1-3 point of care. FHIR: location or service provider. * is the default."),
    )
    department = models.ForeignKey(
        "calls.Department", on_delete=models.PROTECT, related_name="ward_mappings", verbose_name=_("department")
    )

    class Meta:
        ordering = ["kind", "code", "sender"]
        verbose_name = _("ward mapping")
        verbose_name_plural = _("ward mappings")
        constraints = [
            models.UniqueConstraint(fields=["kind", "sender", "code"], name="ward_mapping_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} → {self.department}"


class FeedSender(BaseModel):
    """A hospital system that sends us messages, and what it may send.

    HL7: ``name`` is MSH-3/MSH-4 as the inbox shows it ("HIS/HOSP"); a sender
    without a row takes the defaults (inpatient discharges only), one
    switched off is refused. FHIR: the system that pushes bundles with its
    own token (only the token's SHA-256 is kept); the endpoint knows the
    sender by its token alone."""

    DEFAULT_CLASSES = {Kind.HL7: ("I",), Kind.FHIR: ("IMP",)}

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    name = models.CharField(
        _("sender"),
        max_length=200,
        help_text=_("HL7: MSH-3/MSH-4 as the inbox shows them (HIS/HOSP). FHIR: a name for the system."),
    )
    discharge_classes = models.CharField(
        _("patient classes that are discharges"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated. HL7: PV1-2 codes (I inpatient, O outpatient, E emergency...); FHIR: Encounter "
            "class codes (IMP, AMB, EMER...). Empty: I for HL7, IMP for FHIR."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Switched off, its messages are refused and its token opens nothing.")
    )
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, blank=True, editable=False, db_index=True)
    token_hint = models.CharField(_("token starts with"), max_length=8, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("sending system")
        verbose_name_plural = _("sending systems")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="feed_sender_unique_name")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def classes(self) -> tuple[str, ...]:
        """The patient classes this sender's discharges have."""
        given = tuple(dict.fromkeys(c.strip().upper() for c in self.discharge_classes.split(",") if c.strip()))
        return given or self.DEFAULT_CLASSES[self.kind]


class StayVisit(BaseModel):
    """The hospital system's visit number (HL7 PV1-19) of a stay, per sender:
    how a later message that lacks the admission date (PV1-44) finds it."""

    sender = models.CharField(_("sender"), max_length=200)
    visit_number = models.CharField(_("visit number"), max_length=100)
    discharge = models.ForeignKey(
        "calls.Discharge", on_delete=models.PROTECT, related_name="visits", verbose_name=_("discharge")
    )

    class Meta:
        verbose_name = _("visit number")
        verbose_name_plural = _("visit numbers")
        constraints = [models.UniqueConstraint(fields=["sender", "visit_number"], name="stay_visit_unique_number")]

    def __str__(self) -> str:
        return f"{self.sender} {self.visit_number}"
