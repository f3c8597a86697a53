from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


class DashboardDay(BaseModel):
    """How many calls share one combination of what the dashboard counts, per
    department and due date. Kept exact by PostgreSQL triggers on calls, spot
    checks and discharges (calls/dashboard/summary.py), so the dashboard sums
    a few thousand rows instead of scanning a million calls. On SQLite it is
    not kept and the dashboard counts the calls themselves."""

    department = models.ForeignKey(
        "calls.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("department"),
    )
    due_date = models.DateField(_("due date"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("assigned nurse"),
    )
    status = models.CharField(_("status"), max_length=12)
    cancel_reason = models.CharField(_("cancel reason"), max_length=20, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=10, blank=True)
    satisfaction = models.CharField(_("overall satisfaction"), max_length=12, blank=True)
    spot_check = models.CharField(_("spot check"), max_length=20, blank=True)  # "", pending, good, needs_improvement
    calls = models.IntegerField(_("calls"), default=0)
    duration_sum = models.BigIntegerField(_("total duration (seconds)"), default=0)
    duration_n = models.IntegerField(_("calls with a duration"), default=0)

    class Meta:
        default_permissions = ()
        verbose_name = _("dashboard day")
        verbose_name_plural = _("dashboard days")
        indexes = [models.Index(fields=["department", "due_date"], name="dashday_dept_due_idx")]

    def __str__(self) -> str:
        return f"{self.department_id} · {self.due_date} · {self.status}: {self.calls}"


class DashboardItemDay(BaseModel):
    """How many times an item got a score on the calls of one department and
    due date (kept by the same triggers)."""

    department = models.ForeignKey(
        "calls.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("department"),
    )
    due_date = models.DateField(_("due date"))
    item = models.ForeignKey(
        "calls.SatisfactionItem",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("item"),
    )
    score = models.PositiveSmallIntegerField(_("score"))
    scores = models.IntegerField(_("scores"), default=0)

    class Meta:
        default_permissions = ()
        verbose_name = _("dashboard item day")
        verbose_name_plural = _("dashboard item days")
        indexes = [models.Index(fields=["department", "due_date"], name="dashitem_dept_due_idx")]

    def __str__(self) -> str:
        return f"{self.department_id} · {self.due_date} · {self.item_id}={self.score}: {self.scores}"


class DashboardStay(BaseModel):
    """What the dashboard's patient figures count of one stay (a discharge not
    cancelled): how many of its calls were completed, cancelled because the
    patient died, unreachable or had the family take part, and the overall
    rating of its last rated call (calls/dashboard/patients.py). Kept exact by
    PostgreSQL triggers (calls/dashboard/stay_summary.py); not kept on SQLite."""

    discharge = models.OneToOneField(
        "calls.Discharge",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
        verbose_name=_("discharge"),
    )
    department = models.ForeignKey(
        "calls.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("department"),
    )
    discharged_on = models.DateField(_("discharged on"))
    sex = models.CharField(_("sex"), max_length=1)
    age_band = models.CharField(_("age at discharge"), max_length=10)
    icd10 = models.CharField(_("ICD-10 code"), max_length=16, blank=True)
    completed_calls = models.IntegerField(default=0)
    deceased_calls = models.IntegerField(default=0)
    unreachable_calls = models.IntegerField(default=0)
    family_calls = models.IntegerField(default=0)
    rating = models.CharField(_("overall satisfaction"), max_length=12, blank=True)

    class Meta:
        default_permissions = ()
        verbose_name = _("dashboard stay")
        verbose_name_plural = _("dashboard stays")
        indexes = [models.Index(fields=["department", "discharged_on"], name="dashstay_dept_date_idx")]

    def __str__(self) -> str:
        return f"{self.discharge_id} · {self.discharged_on}"


class DashboardStayDay(BaseModel):
    """How many stays of one department discharged on one day share one
    combination of what the patient figures count (kept by the same triggers
    from DashboardStay), so a year of a busy hospital sums a few thousand rows."""

    department = models.ForeignKey(
        "calls.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("department"),
    )
    discharged_on = models.DateField(_("discharged on"))
    sex = models.CharField(_("sex"), max_length=1)
    age_band = models.CharField(_("age at discharge"), max_length=10)
    icd10 = models.CharField(_("ICD-10 code"), max_length=16, blank=True)
    reached = models.BooleanField()
    deceased = models.BooleanField()
    lost = models.BooleanField()
    family = models.BooleanField()
    rating = models.CharField(_("overall satisfaction"), max_length=12, blank=True)
    stays = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        verbose_name = _("dashboard stay day")
        verbose_name_plural = _("dashboard stay days")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "department",
                    "discharged_on",
                    "sex",
                    "age_band",
                    "icd10",
                    "reached",
                    "deceased",
                    "lost",
                    "family",
                    "rating",
                ],
                name="dashstayday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id} · {self.discharged_on}: {self.stays}"
