from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .messages import render_message
from .modelbase import BaseModel


class User(BaseModel, AbstractUser):
    """A member of staff. Roles are Django groups (see followup.roles);
    department membership lives on calls.Department.staff."""

    class Grade(models.TextChoices):
        NURSE = "nurse", _("Nurse (护士)")
        NURSE_PRACTITIONER = "practitioner", _("Nurse practitioner (护师)")
        SUPERVISOR_NURSE = "supervisor", _("Supervisor nurse (主管护师)")
        OTHER = "other", _("Other staff")

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    grade = models.CharField(_("grade"), max_length=20, choices=Grade.choices, default=Grade.OTHER)
    phone = models.CharField(_("work phone"), max_length=32, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class AuditEvent(BaseModel):
    """Who viewed, changed or was refused what, when, and from which address.

    Append-only: written by followup.audit, never edited or deleted (database
    triggers refuse it, see migration 0006). ``patient_id`` names the patient
    a row concerns, as a plain integer rather than a foreign key, so that
    deleting or merging patients never loses or rewrites a row. ``fields``
    holds the names of the changed fields, never their values."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        EXPORT = "export", _("Exported")
        REFUSED = "refused", _("Refused")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed log-in")
        LOGOUT = "logout", _("Logged out")

    class Source(models.TextChoices):
        USER = "user", _("A user")
        FEED = "feed", _("A hospital system feed")
        TASK = "task", _("A scheduled task")
        IMPORT = "import", _("A file import")
        SYSTEM = "system", _("The system")
        PATIENT = "patient", _("A patient (self-report form)")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("who")
    )
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    source = models.CharField(_("done by"), max_length=10, choices=Source.choices, default=Source.USER)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True)
    fields = models.CharField(_("changed fields"), max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    url_name = models.CharField(_("page"), max_length=100, blank=True)
    path = models.CharField(_("address"), max_length=500, blank=True)
    method = models.CharField(_("method"), max_length=10, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["patient_id", "at"], name="audit_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type} {self.object_id}"


class Notification(BaseModel):
    """An in-app message to one user: a complaint's deadline, a promise to
    keep, calls handed to her, a spot-check verdict on her call. Written only
    by ``followup.services.notify``.

    A system message is kept as a key and its values (``message_key``,
    ``message_params``) and shown in the reader's language when read
    (``followup.messages``); ``text`` keeps it in the hospital's
    language for the admin and e-mail, and is what is shown of a key no app
    knows."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    text = models.CharField(_("text"), max_length=255)
    link = models.CharField(_("link"), max_length=255, blank=True)
    message_key = models.CharField(_("system message"), max_length=40, blank=True, editable=False)
    message_params = models.JSONField(_("system message values"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.text

    @property
    def shown_text(self) -> str:
        """The text in the reader's (the active) language."""
        shown = render_message(self.message_key, self.message_params)
        return self.text if shown is None else shown
