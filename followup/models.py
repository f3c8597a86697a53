from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
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
