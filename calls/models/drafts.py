from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class CallDraft(BaseModel):
    """What a nurse has typed on a call's screen and not yet saved (issue 17):
    saved as she types, put back in the forms when she opens the call again
    (after a reload, a lost connection or a log-in), deleted when the call is
    completed or cancelled. One per call and nurse; only she sees it. Written
    only by calls.services.drafts; docs/forms.md explains the design."""

    call = models.ForeignKey(
        "calls.FollowUpCall", on_delete=models.CASCADE, related_name="drafts", verbose_name=_("call")
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("nurse")
    )
    # Form field name ("q_12", "outcome-summary", "attempt-note") -> the values as posted (a list: a
    # multiple choice has several). Only the names the call screen's forms use are kept.
    fields = models.JSONField(_("typed values"), default=dict)
    # The call's version her typing started from: the forms are sent back with it, so a change
    # someone else saved meanwhile still shows as a conflict instead of being overwritten.
    call_version = models.PositiveIntegerField(_("call version"))
    # When her browser last saw her type, by the browser's clock: compared with the copy the
    # browser keeps while the server cannot be reached, to put back the newer one.
    typed_at = models.DateTimeField(_("typed at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("call draft")
        verbose_name_plural = _("call drafts")
        constraints = [models.UniqueConstraint(fields=["call", "nurse"], name="draft_unique_call_nurse")]
        indexes = [models.Index(fields=["updated_at"], name="draft_updated_idx")]

    def __str__(self) -> str:
        return f"draft of call {self.call_id} by user {self.nurse_id}"
