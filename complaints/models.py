"""Complaint tickets (投诉), their append-only timeline, promises to the
complainant, the SLA configuration and in-app notifications.

State changes go through complaints.services; nothing here decides a
workflow step."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class Category(BaseModel):
    """A reason for complaining, configurable in the admin (seeded from the
    categories hospitals report on)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("English name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")

    def __str__(self) -> str:
        return self.localized_name(self.name_en, self.name_zh)

    @staticmethod
    def localized_name(name_en: str, name_zh: str) -> str:
        language = translation.get_language() or ""
        return name_zh if language.startswith("zh") and name_zh else name_en


class Severity(models.TextChoices):
    GENERAL = "general", _("General (一般)")
    MAJOR = "major", _("Major (重大)")
    URGENT = "urgent", _("Urgent (紧急)")


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    WORKING_DAYS = "days", _("working days")


class SlaPolicy(BaseModel):
    """How fast a complaint of one severity must be answered and resolved,
    counted in business time of the working calendar."""

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, unique=True)
    first_response_value = models.PositiveIntegerField(_("first response within"))
    first_response_unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)
    resolution_value = models.PositiveIntegerField(_("resolution within"))
    resolution_unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)
    # 医疗机构投诉管理办法 (2019), art. 35: the complainant is told how the
    # complaint is handled within 5 working days of its receipt, within 10
    # when several departments must cooperate.
    reply_days = models.PositiveIntegerField(
        _("reply within (working days)"),
        default=5,
        help_text=_("Working days after the day of receipt; the law sets 5."),
    )
    reply_days_coordinated = models.PositiveIntegerField(
        _("reply within when several departments cooperate (working days)"),
        default=10,
        help_text=_("The law sets 10."),
    )

    class Meta:
        ordering = ["severity"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return str(self.get_severity_display())


class WorkingCalendar(BaseModel):
    """The hours the complaint desk works; the SLA clock only runs inside them.
    The first row is used; without one the defaults below apply."""

    name = models.CharField(_("name"), max_length=100, default="Patient service centre")
    weekdays = models.JSONField(
        _("working weekdays"), default=list, help_text=_("Numbers of the working weekdays: Monday is 0, Sunday is 6.")
    )
    national_holidays = models.BooleanField(
        _("China's public holidays"),
        default=True,
        help_text=_(
            "Closed on China's public holidays and open on their make-up working days (调休), as the State "
            "Council publishes them. The hospital's own days below come first."
        ),
    )
    start_time = models.TimeField(_("working day starts"), default=dt.time(8, 0))
    end_time = models.TimeField(_("working day ends"), default=dt.time(17, 30))

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="calendar_end_after_start")
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(BaseModel):
    """A hospital's own day: closed although it would be a working day, or
    (``is_working_day``) open although it is a weekend or a public holiday.
    It overrides the weekdays and China's public holidays."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    is_working_day = models.BooleanField(
        _("working day"), default=False, help_text=_("Ticked: the desk works that day. Not ticked: it is closed.")
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("hospital day off or working day")
        verbose_name_plural = _("hospital days off and working days")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class ReferenceCounter(BaseModel):
    """The last complaint number handed out in a year (locked while taken)."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Complaint(BaseModel):
    class Channel(models.TextChoices):
        FOLLOW_UP_CALL = "followup_call", _("Follow-up call")
        HOTLINE = "hotline", _("Hotline")
        LETTER = "letter", _("Letter")
        IN_PERSON = "in_person", _("In person")
        SUGGESTION_BOX = "suggestion_box", _("Suggestion box")
        WEB = "web", _("E-mail or web")
        SURVEY = "survey", _("Survey questionnaire")
        AUTHORITY = "authority", _("Forwarded by a higher authority (上级转件)")

    class Relation(models.TextChoices):
        PATIENT = "patient", _("Patient")
        FAMILY = "family", _("Family member")
        FRIEND = "friend", _("Friend or carer")
        OTHER = "other", _("Other")

    class Validity(models.TextChoices):
        UNDETERMINED = "undetermined", _("Not yet determined")
        VALID = "valid", _("Valid (有效)")
        NOT_VALID = "not_valid", _("Not valid (无效)")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Investigating")
        RESOLVED = "resolved", _("Resolved")
        REPLIED = "replied", _("Replied")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")

    OPEN_STATUSES = (Status.RECEIVED, Status.INVESTIGATING, Status.RESOLVED, Status.REPLIED, Status.REOPENED)

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASIC = "basic", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    patient = models.ForeignKey(
        "calls.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("patient"),
    )
    complainant_name = models.CharField(_("complainant's name"), max_length=100)
    complainant_phone = models.CharField(_("complainant's phone"), max_length=32, blank=True)
    complainant_relation = models.CharField(
        _("complainant is the patient's"), max_length=10, choices=Relation.choices, default=Relation.PATIENT
    )
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="complaints_received",
        verbose_name=_("received by"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("main category")
    )
    secondary_categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="secondary_complaints",
        verbose_name=_("other categories"),
        help_text=_("Reports count the main category; these are shown beside it."),
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    validity = models.CharField(
        _("valid or not"), max_length=15, choices=Validity.choices, default=Validity.UNDETERMINED
    )
    departments = models.ManyToManyField(
        "calls.Department", blank=True, related_name="complaints", verbose_name=_("departments involved")
    )
    staff_involved = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="complaints_involving", verbose_name=_("staff involved")
    )
    staff_involved_text = models.CharField(
        _("other staff involved"), max_length=255, blank=True, help_text=_("Names of staff who have no log-in.")
    )
    description = models.TextField(_("what the complainant said"))
    settled_on_the_spot = models.BooleanField(_("settled on the spot"), default=False)
    coordinated = models.BooleanField(
        _("several departments must cooperate"),
        default=False,
        help_text=_("Gives the longer legal time to reply (10 working days instead of 5)."),
    )
    is_dispute = models.BooleanField(
        _("medical dispute (医疗纠纷)"),
        default=False,
        help_text=_("The complaint has become a dispute over the care given (医疗纠纷)."),
    )
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.RECEIVED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_owned",
        verbose_name=_("owner"),
    )
    handling_satisfaction = models.CharField(
        _("complainant's satisfaction with the handling"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    source_call = models.ForeignKey(
        "calls.FollowUpCall",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("raised on follow-up call"),
    )
    # SLA clock (see docs/sla.md)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    reply_due = models.DateTimeField(_("reply due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first contact at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    reply_breached = models.BooleanField(_("reply late"), default=False)
    waiting_on_complainant = models.BooleanField(_("waiting for the complainant"), default=False)
    paused_since = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(_("business minutes paused"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [("view_complaint_report", _("Can view the quarterly complaint report"))]
        indexes = [
            models.Index(fields=["status", "resolution_due"], name="complaint_status_due_idx"),
            models.Index(fields=["received_at"], name="complaint_received_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_breached(self) -> bool:
        """Late at some step: flagged, or a step recorded after its deadline."""

        def after(done, due):
            return done is not None and due is not None and done > due

        return (
            self.first_response_breached
            or self.resolution_breached
            or self.reply_breached
            or after(self.first_responded_at, self.first_response_due)
            or after(self.resolved_at, self.resolution_due)
            or after(self.replied_at, self.reply_due)
        )


class ChannelResponseTarget(BaseModel):
    """A first-response target the desk promises for one channel (a hotline
    answering within 30 minutes). When it is sooner than the severity's, it
    is the one that counts."""

    channel = models.CharField(_("channel"), max_length=20, choices=Complaint.Channel.choices, unique=True)
    first_response_value = models.PositiveIntegerField(_("first response within"))
    first_response_unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)

    class Meta:
        ordering = ["channel"]
        verbose_name = _("first-response target of a channel")
        verbose_name_plural = _("first-response targets of channels")

    def __str__(self) -> str:
        return str(self.get_channel_display())


class Measure(models.TextChoices):
    """How a complaint was resolved; a complaint may have several."""

    EXPLANATION = "explanation", _("Explanation, accepted")
    APOLOGY = "apology", _("Apology")
    COMPENSATION = "compensation", _("Compensation")
    MEDIATION = "mediation", _("People's mediation (人民调解)")
    ARBITRATION = "arbitration", _("Arbitration (仲裁)")
    LEGAL_ADVISED = "legal_advised", _("Advised to take the legal route")
    COURT = "court", _("Went to court (诉讼)")
    LEGAL_REFUSED = "legal_refused", _("Complainant refused the legal route")


class ResolutionMeasure(BaseModel):
    """One measure taken to resolve a complaint (written by
    complaints.services only). Compensation carries its amount."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="measures", verbose_name=_("complaint")
    )
    kind = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True, help_text=_("Compensation only.")
    )

    class Meta:
        ordering = ["complaint", "pk"]
        verbose_name = _("resolution measure")
        verbose_name_plural = _("resolution measures")
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind"], name="one_measure_of_a_kind"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | (Q(kind="compensation") & Q(amount__gte=0)),
                name="amount_only_for_compensation",
            ),
        ]

    def __str__(self) -> str:
        label = str(self.get_kind_display())
        return f"{label} {self.amount:,.2f}" if self.amount is not None else label


class AppendOnly(BaseModel):
    """Rows that are written once and never changed or removed."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only")


# What the system itself writes (no user behind it) is kept as a key and its
# values, so each reader sees it in their own language; ``text`` keeps it in
# the hospital's language for the admin, search and e-mail.
SYSTEM_MESSAGES = {
    "first_response_late": _("%(ref)s: first response is late (was due %(due)s)."),
    "resolution_late": _("%(ref)s: resolution is late (was due %(due)s)."),
    "reply_late": _("%(ref)s: the reply to the complainant is late (was due %(due)s)."),
    "new_complaint": _("%(ref)s: a new complaint (%(channel)s) needs an officer."),
    "promise_owned": _("%(ref)s: you are to deliver “%(what)s” by %(due)s."),
    "promise_overdue": _("%(ref)s: the promise “%(what)s” (%(owner)s) was due %(due)s and is not delivered."),
}


def system_message(key: str, params: dict) -> str:
    """A SYSTEM_MESSAGES entry with its values, in the active language; a
    value that is itself a choice (``channel``) is shown in that language too."""
    shown = dict(params)
    if "channel" in shown:
        shown["channel"] = dict(Complaint.Channel.choices).get(shown["channel"], shown["channel"])
    return str(SYSTEM_MESSAGES[key]) % shown


class SystemMessage(BaseModel):
    message_key = models.CharField(_("system message"), max_length=40, blank=True, editable=False)
    message_params = models.JSONField(_("system message values"), default=dict, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def shown_text(self) -> str:
        """The text in the reader's language."""
        if self.message_key in SYSTEM_MESSAGES:
            return system_message(self.message_key, self.message_params)
        return self.text


def evidence_path(instance: "ComplaintEvent", filename: str) -> str:
    now = timezone.localtime()
    return f"complaints/evidence/{now:%Y/%m}/{filename}"


class ComplaintEvent(SystemMessage, AppendOnly):
    """One line of a complaint's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Received")
        STATUS = "status", _("Status change")
        NOTE = "note", _("Note")
        EVIDENCE = "evidence", _("Evidence file")
        REPLY = "reply", _("Reply to the complainant")
        CONTACT = "contact", _("Contact with the complainant")
        REASSIGNED = "reassigned", _("Reassigned")
        MEASURES = "measures", _("Resolution measures")
        PROMISE_ADDED = "promise_added", _("Promise made")
        PROMISE_DELIVERED = "promise_delivered", _("Promise delivered")
        SLA_BREACH = "sla_breach", _("SLA breached")
        PAUSED = "paused", _("Waiting for the complainant")
        RESUMED = "resumed", _("Clock resumed")

    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="events", verbose_name=_("complaint")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("from status"), max_length=15, choices=Complaint.Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=15, choices=Complaint.Status.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True, max_length=255)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_size = models.PositiveIntegerField(_("file size"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, help_text=_("When it happened."))
    recorded_at = models.DateTimeField(_("entered at"), default=timezone.now, help_text=_("When it was entered."))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")

    def __str__(self) -> str:
        return f"{self.complaint_id} · {self.get_kind_display()}"

    @property
    def entered_later(self) -> bool:
        """Typed in well after it happened (a back-dated step): the timeline
        shows both times."""
        return self.recorded_at - self.at > dt.timedelta(minutes=5)


class Promise(BaseModel):
    """Something promised to the complainant (a refund, a call back by
    Friday), tracked until delivered."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="promises", verbose_name=_("complaint")
    )
    what = models.CharField(_("what was promised"), max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaint_promises",
        verbose_name=_("who delivers it"),
    )
    owner_name = models.CharField(
        _("or someone without a log-in"),
        max_length=100,
        blank=True,
        help_text=_("A doctor or a department head who has no log-in; an officer records the delivery."),
    )
    made_on = models.DateField(_("promised on"), default=timezone.localdate)
    due_on = models.DateField(_("due on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivered by"),
    )
    note = models.TextField(_("note"), blank=True)
    overdue_alerted_on = models.DateField(_("overdue alert sent on"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("promise")
        verbose_name_plural = _("promises")
        constraints = [
            models.CheckConstraint(condition=Q(owner__isnull=False) | ~Q(owner_name=""), name="promise_has_an_owner"),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("made_on")), name="promise_due_after_made"),
        ]

    def __str__(self) -> str:
        return self.what

    @property
    def owner_label(self) -> str:
        return str(self.owner) if self.owner_id else self.owner_name

    @property
    def is_open(self) -> bool:
        return self.delivered_on is None
