"""Self-report by text message (docs/self-report.md): a personal link per
call, the messages sent and received, and a patient's "stop these messages".

A link keeps only the SHA-256 of its token: the token itself lives in the
text message and nowhere on the desk."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from followup.modelbase import BaseModel


class SelfReportLink(BaseModel):
    """The personal questionnaire link of one call (at most one per call:
    sending twice sends nothing new). Valid until it expires, the call is
    completed or cancelled, or the patient has answered."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("text message", "Waiting to be sent")
        SENT = "sent", pgettext_lazy("text message", "Sent")
        DELIVERED = "delivered", pgettext_lazy("text message", "Delivered")
        FAILED = "failed", pgettext_lazy("text message", "Not delivered")
        SKIPPED = "skipped", pgettext_lazy("text message", "Not sent")

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", _("The patient asked for no more messages")
        NO_PHONE = "no_phone", _("No mobile number to send to")
        NOT_CALLABLE = "not_callable", _("The patient is not to be contacted")
        REFUSED = "refused", _("The gateway refused the message")

    class Recipient(models.TextChoices):
        PATIENT = "patient", pgettext_lazy("who gets the text message", "Patient")
        FAMILY = "family", pgettext_lazy("who gets the text message", "Family contact")

    call = models.OneToOneField(
        "calls.FollowUpCall", on_delete=models.PROTECT, related_name="self_report", verbose_name=_("call")
    )
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, unique=True, editable=False)
    recipient = models.CharField(_("sent to"), max_length=10, choices=Recipient.choices, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    status = models.CharField(_("message status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(_("why not sent"), max_length=20, choices=SkipReason.choices, blank=True)
    send_attempts = models.PositiveSmallIntegerField(_("sending attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    call_me_at = models.DateTimeField(_("asked for a call at"), null=True, blank=True)
    call_me_note = models.TextField(_("patient's note"), blank=True)
    # Answers given so far (question pk -> value), kept until the form is sent.
    draft = models.JSONField(_("answers so far"), default=dict, blank=True)
    callback_call = models.ForeignKey(
        "calls.FollowUpCall",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="self_report_callbacks",
        verbose_name=_("nurse's call back"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("self-report link")
        verbose_name_plural = _("self-report links")
        indexes = [models.Index(fields=["status", "sent_at"], name="self_report_status_sent_idx")]

    def __str__(self) -> str:
        return f"{self.call_id} · {self.get_status_display()}"


class SelfReportMessage(BaseModel):
    """One text message to or from a patient, with what the gateway said:
    its id for the message, its error code, the delivery receipt. Never the
    text (it carries the link) and never the full phone number."""

    class Kind(models.TextChoices):
        LINK = "link", _("Questionnaire link")
        REPLY = "reply", _("Reply from the patient")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("text message", "Waiting to be sent")
        SENT = "sent", pgettext_lazy("text message", "Sent")
        DELIVERED = "delivered", pgettext_lazy("text message", "Delivered")
        FAILED = "failed", pgettext_lazy("text message", "Not delivered")
        RETRYING = "retrying", pgettext_lazy("text message", "Gateway busy: trying again")
        RECEIVED = "received", pgettext_lazy("text message", "Received")

    link = models.ForeignKey(
        SelfReportLink,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("link"),
    )
    patient = models.ForeignKey(
        "calls.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="self_report_messages",
        verbose_name=_("patient"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    backend = models.CharField(_("gateway"), max_length=40)
    phone_hint = models.CharField(_("phone (last digits)"), max_length=8, blank=True)
    provider_id = models.CharField(_("gateway's message id"), max_length=64, blank=True, db_index=True)
    error_code = models.CharField(_("gateway's code"), max_length=64, blank=True)
    error_message = models.CharField(_("gateway's message"), max_length=255, blank=True)
    receipt = models.JSONField(_("delivery receipt"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    receipt_at = models.DateTimeField(_("receipt at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        indexes = [models.Index(fields=["patient", "sent_at"], name="sms_patient_sent_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_status_display()}"


class SelfReportOptOut(BaseModel):
    """The patient asked for no more text messages: every later message is
    skipped. Calls go on as before."""

    class Via(models.TextChoices):
        LINK = "link", _("The questionnaire's stop button")
        REPLY = "reply", _("A reply such as TD or 退订")
        STAFF = "staff", _("Recorded by staff")

    patient = models.OneToOneField(
        "calls.Patient", on_delete=models.PROTECT, related_name="self_report_opt_out", verbose_name=_("patient")
    )
    via = models.CharField(_("how"), max_length=10, choices=Via.choices)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("text message opt-out")
        verbose_name_plural = _("text message opt-outs")

    def __str__(self) -> str:
        return f"{self.patient_id} · {self.get_via_display()}"
