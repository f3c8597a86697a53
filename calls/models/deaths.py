from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class DeathRecord(BaseModel):
    """A patient's death as the desk learnt it: from a family member on a
    call, a hospital feed, a file import or the admin. Recording it cancels
    the patient's open calls (``cancelled_calls``, kept so that a reversal
    knows exactly which). A head nurse can reverse a mistaken record, with a
    reason; the calls still worth making are then restored
    (docs/call-queue.md). At most one record per patient stands; reversed
    ones stay, as history."""

    patient = models.ForeignKey(
        "calls.Patient", on_delete=models.PROTECT, related_name="death_records", verbose_name=_("patient")
    )
    died_on = models.DateField(
        _("date of death"), null=True, blank=True, help_text=_("Empty when the date is not known.")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # Who recorded it when no person did: "hl7:HIS", "import:ward.csv", "system".
    recorded_via = models.CharField(_("recorded through"), max_length=150, blank=True)
    call = models.ForeignKey(
        "calls.FollowUpCall",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_deaths",
        verbose_name=_("reported on the call"),
    )
    note = models.TextField(_("note"), blank=True)
    cancelled_calls = models.ManyToManyField(
        "calls.FollowUpCall", blank=True, related_name="cancelling_deaths", verbose_name=_("calls it cancelled")
    )
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversed by"),
    )
    reversal_reason = models.TextField(_("why it was reversed"), blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("death record")
        verbose_name_plural = _("death records")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(reversed_at__isnull=True), name="death_record_one_standing"
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True) | ~Q(reversal_reason=""), name="death_record_reversal_reason"
            ),
        ]

    def __str__(self) -> str:
        day = self.died_on.isoformat() if self.died_on else "?"
        return f"{self.patient} · {day}"

    @property
    def is_standing(self) -> bool:
        return self.reversed_at is None

    @property
    def recorded_by_label(self) -> str:
        return str(self.recorded_by) if self.recorded_by_id else self.recorded_via
