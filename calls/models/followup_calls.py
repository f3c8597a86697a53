import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from followup.modelbase import BaseModel

from ..risk import RiskTier


class FollowUpCall(BaseModel):
    """One planned follow-up call of a discharge. Generated from a rule step
    (unique per discharge and step, so generation never duplicates) or booked
    by a nurse at the end of an earlier call (``step`` empty)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        UNREACHABLE = "unreachable", _("Unreachable (lost to follow-up)")
        CANCELLED = "cancelled", _("Cancelled")
        MISSED = "missed", _("Missed (generated too late)")

    OPEN_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS)

    class CancelReason(models.TextChoices):
        DECEASED = "deceased", _("Patient died")
        DECLINED = "declined", _("Patient asked for no more calls")
        READMITTED = "readmitted", _("Readmitted")
        DISCHARGE_CANCELLED = "discharge_cancelled", _("Discharge cancelled")
        OTHER = "other", _("Other")

    class AnsweredBy(models.TextChoices):
        PATIENT = "patient", pgettext_lazy("who answered the phone", "Patient")
        FAMILY = "family", pgettext_lazy("who answered the phone", "Family member")
        BOTH = "both", pgettext_lazy("who answered the phone", "Patient and a family member")

    # A family member spoke (alone or with the patient): the dashboard's
    # family figure and the complainant a complaint raised from the call names.
    FAMILY_SPOKE = (AnsweredBy.FAMILY, AnsweredBy.BOTH)

    class Channel(models.TextChoices):
        PHONE = "phone", pgettext_lazy("how the call was answered", "Phone call")
        SELF_REPORT = "self_report", pgettext_lazy("how the call was answered", "Self-report form")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASIC = "basic", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    discharge = models.ForeignKey(
        "calls.Discharge", on_delete=models.PROTECT, related_name="calls", verbose_name=_("discharge")
    )
    # The stay's department, copied onto the call (always equal to
    # discharge.department: set where calls are created, and moved with the
    # stay by calls.services.queue.calls_follow_stays). A head nurse's
    # worklist reads her wards' open calls from the (department, status, due
    # date) index instead of joining every stay of the ward.
    department = models.ForeignKey(
        "calls.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department"),
        editable=False,
    )
    # The stay's readmission-risk tier, copied onto the call (always equal
    # to discharge.risk_tier: set where calls are created, and kept in step
    # by a database trigger whenever a stay's tier changes, migration
    # 0027). The worklist orders a day's calls by it (docs/risk.md); reading
    # it from each stay cost a head nurse's worklist half of its sort.
    risk_tier = models.CharField(
        _("readmission risk tier"),
        max_length=10,
        choices=RiskTier.choices,
        default=RiskTier.UNKNOWN,
        editable=False,
    )
    step = models.ForeignKey(
        "calls.RuleStep",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("rule step"),
    )
    booked_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booked_calls",
        verbose_name=_("booked on call"),
    )
    due_date = models.DateField(_("due date"))
    earliest_on = models.DateField(_("may be made from"))
    latest_on = models.DateField(_("may be made until"))
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    next_attempt_on = models.DateField(_("next try suggested on"), null=True, blank=True)
    callback_at = models.DateTimeField(
        _("callback agreed for"),
        null=True,
        blank=True,
        help_text=_("The time the patient or the family asked to be called back; cleared by the next dial."),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_calls",
        verbose_name=_("assigned nurse"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(_("cancel reason"), max_length=20, choices=CancelReason.choices, blank=True)
    script_version = models.ForeignKey(
        "calls.ScriptVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("script version used"),
    )
    attempt_count = models.PositiveIntegerField(_("attempts so far"), default=0)
    answered_by = models.CharField(_("answered by"), max_length=10, choices=AnsweredBy.choices, blank=True)
    # Which family member spoke, when one did (free text: "daughter", "女儿").
    # A database default too: the benchmarks' INSERT ... SELECT name only the
    # columns they fill.
    family_member_relation = models.CharField(
        _("family member's relation"), max_length=50, blank=True, default="", db_default=""
    )
    family_member_name = models.CharField(
        _("family member's name"), max_length=100, blank=True, default="", db_default=""
    )
    satisfaction = models.CharField(_("overall satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    # How the answers came: a nurse's call, or the patient's self-report form (docs/self-report.md).
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE, db_default=Channel.PHONE
    )
    next_call_on = models.DateField(_("next call booked for"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="completed_calls",
        verbose_name=_("completed by"),
    )
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    version = models.PositiveIntegerField(_("edit version"), default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last changed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        constraints = [
            models.UniqueConstraint(
                fields=["discharge", "step"], condition=Q(step__isnull=False), name="call_unique_discharge_step"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="call_status_due_idx"),
            models.Index(fields=["assigned_to", "status", "due_date"], name="call_nurse_status_due_idx"),
            models.Index(fields=["completed_at"], name="call_completed_idx"),
            # A stay's calls by status and due date: the dashboard's patient figures and lists ask "has
            # this stay a completed (unreachable, cancelled) call?" and "its last rated one?" per stay.
            models.Index(fields=["discharge", "status", "due_date"], name="call_discharge_status_idx"),
            # A ward's open calls (the head nurse's worklist, the unassigned calls a nurse sees).
            models.Index(fields=["department", "status", "due_date"], name="call_department_status_idx"),
            # The calls answered another way than by phone (the self-report form), by due date: the
            # dashboard's self-report figures count them and take the phone's as the rest.
            models.Index(fields=["due_date"], condition=~Q(channel="phone"), name="call_not_phone_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.discharge.patient} · {self.due_date:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def planned_on(self) -> dt.date:
        """The day the call is planned for: the next try (an agreed callback's
        day, or the day suggested after an unanswered dial), else the day the
        queue placed it on, else the due date. The worklist sorts by the same
        (calls.selectors.worklist)."""
        if self.next_attempt_on is not None:
            return self.next_attempt_on
        if self.scheduled_for is not None:
            return timezone.localdate(self.scheduled_for)
        return self.due_date

    @property
    def planned_time(self) -> dt.time | None:
        """The planned time of day (hospital time): an agreed callback's, else
        the queue's; None for a booked call with no time."""
        moment = self.callback_at or self.scheduled_for
        return timezone.localtime(moment).time() if moment is not None else None

    @property
    def call_day(self):
        """The day of the call: when it was completed (hospital time), else its due date."""
        return timezone.localdate(self.completed_at) if self.completed_at else self.due_date

    @property
    def family_spoke(self) -> bool:
        return self.answered_by in self.FAMILY_SPOKE

    @property
    def family_member(self) -> str:
        """The family member who spoke, as recorded: "daughter, 李华"."""
        if not self.family_spoke:
            return ""
        return ", ".join(part for part in (self.family_member_relation, self.family_member_name) if part)

    @property
    def respondent_display(self) -> str:
        """Who answered, with the family member: "Patient and a family member (daughter, 李华)"."""
        label = self.get_answered_by_display()
        member = self.family_member
        if not (label and member):
            return str(label)
        return pgettext("who answered, and which family member", "%(who)s (%(member)s)") % {
            "who": label,
            "member": member,
        }


class CallAttempt(BaseModel):
    """One dial of a call: which number, what came of it, and for a callback
    when and who asked."""

    class Result(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        CALLBACK = "callback", _("Asked to call back")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        SWITCHED_OFF = "switched_off", _("Switched off")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused")

    class Dialled(models.TextChoices):
        PATIENT = "patient", _("Patient's phone")
        FAMILY = "family", _("Family contact's phone")
        OTHER = "other", _("Another number")

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("call"))
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_attempts", verbose_name=_("nurse")
    )
    started_at = models.DateTimeField(_("started at"))
    result = models.CharField(_("result"), max_length=15, choices=Result.choices)
    dialled = models.CharField(
        _("number dialled"),
        max_length=10,
        choices=Dialled.choices,
        blank=True,
        help_text=_("Empty on attempts recorded before the number was asked, and on a completion without a dial."),
    )
    dialled_number = models.CharField(_("number"), max_length=32, blank=True)
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    callback_asked_by = models.CharField(
        _("callback asked by"),
        max_length=10,
        choices=[(c.value, c.label) for c in (FollowUpCall.AnsweredBy.PATIENT, FollowUpCall.AnsweredBy.FAMILY)],
        blank=True,
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["call", "started_at"]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        constraints = [
            models.CheckConstraint(
                # A callback has its time; no other result has one.
                condition=Q(result="callback", callback_at__isnull=False)
                | (~Q(result="callback") & Q(callback_at__isnull=True)),
                name="attempt_callback_has_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} · {self.get_result_display()}"


class CallAnswer(BaseModel):
    """The answer to one script question on a completed call."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="answers", verbose_name=_("call"))
    question = models.ForeignKey(
        "calls.Question", on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    value = models.JSONField(_("answer"), null=True, blank=True)
    is_red_flag = models.BooleanField(_("red flag"), default=False)
    is_out_of_range = models.BooleanField(
        _("range warning"),
        default=False,
        help_text=_("A number outside the question's allowed range, accepted with a warning."),
    )

    class Meta:
        ordering = ["call", "question__order"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["call", "question"], name="answer_unique_call_question")]

    def __str__(self) -> str:
        return f"{self.question} = {self.value}"

    @property
    def display(self) -> str:
        """The answer in the script's language, with the unit of a number."""
        return self.question.format_answer(self.value)


class ItemScore(BaseModel):
    """A satisfaction item score 1-10 given on a call (10 best)."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="item_scores", verbose_name=_("call"))
    item = models.ForeignKey(
        "calls.SatisfactionItem", on_delete=models.PROTECT, related_name="scores", verbose_name=_("item")
    )
    score = models.PositiveSmallIntegerField(_("score"))

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(fields=["call", "item"], name="item_score_unique_call_item"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=10), name="item_score_1_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.score}"


class ClinicalAlert(BaseModel):
    """A red-flag answer that needs clinical attention by a deadline. It stays
    on the head nurse's list until someone records the action taken."""

    class Action(models.TextChoices):
        CLINIC_VISIT = "clinic_visit", _("Advised a clinic visit")
        DOCTOR_INFORMED = "doctor_informed", _("Informed the doctor")
        EMERGENCY = "emergency", _("Gave emergency advice")

    call = models.OneToOneField(
        FollowUpCall, on_delete=models.PROTECT, related_name="clinical_alert", verbose_name=_("call")
    )
    raised_at = models.DateTimeField(_("raised at"))
    due_at = models.DateTimeField(_("action due by"))
    reason = models.TextField(_("red-flag answers"))
    action = models.CharField(_("action taken"), max_length=20, choices=Action.choices, blank=True)
    action_note = models.TextField(_("action note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("clinical alert")
        verbose_name_plural = _("clinical alerts")
        indexes = [models.Index(fields=["resolved_at", "due_at"], name="alert_open_due_idx")]

    def __str__(self) -> str:
        return f"{self.call} · {self.due_at:%Y-%m-%d %H:%M}"


class SpotCheck(BaseModel):
    """A head nurse's review (随机抽查) of a completed call sampled weekly."""

    class Verdict(models.TextChoices):
        GOOD = "good", _("Good")
        NEEDS_IMPROVEMENT = "needs_improvement", _("Needs improvement")

    call = models.OneToOneField(
        FollowUpCall, on_delete=models.PROTECT, related_name="spot_check", verbose_name=_("call")
    )
    week = models.DateField(_("week (Monday)"))
    sampled_at = models.DateTimeField(_("sampled at"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        ordering = ["-week", "pk"]
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")

    def __str__(self) -> str:
        return f"{self.call} · {self.get_verdict_display() or '-'}"
