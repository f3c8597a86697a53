import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel
from followup.weekdays import weekdays_problem


class FollowUpRule(BaseModel):
    """When a department's patients are called: an ordered list of steps.
    The most specific active rule whose diagnosis match fits applies."""

    name = models.CharField(_("name"), max_length=150)
    department = models.ForeignKey(
        "calls.Department", on_delete=models.PROTECT, related_name="rules", verbose_name=_("department")
    )
    diagnosis_match = models.CharField(
        _("diagnosis match"),
        max_length=100,
        blank=True,
        help_text=_("Optional: words or an ICD-10 prefix; empty applies to every diagnosis of the department."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["department", "name"]
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")

    def __str__(self) -> str:
        return f"{self.department} · {self.name}"


class RuleStep(BaseModel):
    """One call of a rule: due ``offset_days`` after discharge, allowed from
    ``early_days`` before to ``late_days`` after the due date, on the given
    weekdays between ``window_start`` and ``window_end`` (hospital time)."""

    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, related_name="steps", verbose_name=_("rule"))
    order = models.PositiveIntegerField(_("order"), default=0)
    offset_days = models.PositiveIntegerField(_("days after discharge"))
    early_days = models.PositiveIntegerField(_("days early allowed"), default=0)
    late_days = models.PositiveIntegerField(_("days late allowed"), default=7)
    weekdays = models.JSONField(
        _("calling days"), default=list, help_text=_("Weekday numbers, Monday = 0 ... Sunday = 6.")
    )
    window_start = models.TimeField(_("calling window starts"))
    window_end = models.TimeField(_("calling window ends"))
    max_attempts = models.PositiveIntegerField(
        _("maximum attempts"),
        default=3,
        help_text=_("Unanswered dials before the call is lost to follow-up."),
    )
    attempt_days = models.PositiveIntegerField(
        _("on at least this many days"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_(
            "The unanswered dials must fall on at least this many different days: "
            "several dials within minutes on one day never lose a patient."
        ),
    )
    dial_from = models.TimeField(
        _("no dialling before"),
        null=True,
        blank=True,
        default=dt.time(8, 0),
        help_text=_("Hospital time. Leave both dialling hours empty for no limit."),
    )
    dial_until = models.TimeField(
        _("no dialling after"),
        null=True,
        blank=True,
        default=dt.time(20, 0),
        help_text=_("Dials outside these hours do not count towards lost to follow-up; callbacks must fall inside."),
    )
    # Off when empty: docs/self-report.md.
    send_self_report_hours_before = models.PositiveSmallIntegerField(
        _("send a self-report link (hours before the call)"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: no link. Otherwise the patient gets a text message with a questionnaire this many hours "
            "before the planned call; a nurse calls only if nobody answers or the answers need one."
        ),
    )
    script = models.ForeignKey(
        "calls.CallScript",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rule_steps",
        verbose_name=_("call script"),
    )
    risk_tiers = models.JSONField(
        _("readmission risk tiers"),
        default=list,
        blank=True,
        help_text=_(
            "Empty: every patient gets this call. Otherwise only patients whose readmission risk is one of "
            "these tiers (for example an early call for high risk only)."
        ),
    )

    class Meta:
        ordering = ["rule", "order", "offset_days"]
        verbose_name = _("rule step")
        verbose_name_plural = _("rule steps")
        constraints = [
            models.UniqueConstraint(fields=["rule", "offset_days"], name="rule_step_unique_offset"),
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="rule_step_window_order"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="rule_step_at_least_one_attempt"),
            models.CheckConstraint(
                condition=Q(attempt_days__gte=1, attempt_days__lte=F("max_attempts")),
                name="rule_step_attempt_days_within_attempts",
            ),
            models.CheckConstraint(
                condition=Q(dial_from__isnull=True, dial_until__isnull=True)
                | Q(dial_from__isnull=False, dial_until__gt=F("dial_from")),
                name="rule_step_dial_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return str(self.label)

    def clean_fields(self, exclude=None):
        """The calling days as the queue needs them: at least one, each a
        weekday number 0-6, each once (one clear message instead of Django's
        "cannot be blank"). Skipped when a form already refused the field."""
        errors: dict = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not exclude or "weekdays" not in exclude:
            problem = weekdays_problem(self.weekdays)
            if problem:
                errors["weekdays"] = [problem]
        if errors:
            raise ValidationError(errors)

    def clean(self):
        """The attempt policy as the services need it: no more days than
        dials, both dialling hours or neither, and the calling window inside
        them (a call planned at 21:00 could never be dialled)."""
        super().clean()
        errors: dict = {}
        if self.attempt_days and self.max_attempts and self.attempt_days > self.max_attempts:
            errors["attempt_days"] = [
                _("The dials cannot fall on more days than there are dials: at most %(n)s.") % {"n": self.max_attempts}
            ]
        if (self.dial_from is None) != (self.dial_until is None):
            errors["dial_until"] = [_("Give both dialling hours, or leave both empty for no limit.")]
        elif self.dial_from is not None and self.dial_until <= self.dial_from:
            errors["dial_until"] = [_("The end of the dialling hours must be after their start.")]
        elif (
            self.dial_from is not None
            and self.window_start is not None
            and self.window_end is not None
            and (self.window_start < self.dial_from or self.window_end > self.dial_until)
        ):
            errors["window_start"] = [
                _("The calling window must lie within the dialling hours (%(start)s-%(end)s).")
                % {"start": f"{self.dial_from:%H:%M}", "end": f"{self.dial_until:%H:%M}"}
            ]
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        return _("day %(days)s") % {"days": self.offset_days}
