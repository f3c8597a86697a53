from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class Department(BaseModel):
    """A ward (科室). Nurses and head nurses see the patients, calls and
    complaints of the departments they are staff of."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("ward phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="departments", verbose_name=_("staff")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name
