from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache

from django.conf import settings
from django.db import models
from django.template.defaultfilters import linebreaksbr
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from followup.modelbase import BaseModel


def plain_number(value) -> str:
    """60 for 60.000, 37.5 for 37.500: how a person writes the number."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


class CallScript(BaseModel):
    """A call outline (提纲) for a kind of patient; its text lives in versions,
    each in one language, with at most one published version per language
    (docs/scripts.md). ``language`` is the script's main language: the
    language of its name and of a new draft, and the last choice when neither
    the nurse's language nor the hospital's has a published version."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        CHINESE = "zh-hans", _("Simplified Chinese")

    name = models.CharField(_("name"), max_length=150)
    departments = models.ManyToManyField(
        "calls.Department", blank=True, related_name="scripts", verbose_name=_("departments")
    )
    diagnosis_match = models.CharField(
        _("diagnosis match"),
        max_length=100,
        blank=True,
        help_text=_("Optional: words or an ICD-10 prefix the diagnosis must contain for this script to apply."),
    )
    language = models.CharField(
        _("main language"),
        max_length=10,
        choices=Language.choices,
        default=Language.CHINESE,
        help_text=_("The language of the script's name and of a new draft. Each version has its own language."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")

    def __str__(self) -> str:
        return f"{self.name} [{self.get_language_display()}]"


class ScriptVersion(BaseModel):
    """One version of a script, in one language. Once a call used it, it never
    changes again: editing makes a new draft (see calls.services.scripts).
    Publishing retires the published version of the same script and language
    only: the Chinese and the English versions are published side by side."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    script = models.ForeignKey(CallScript, on_delete=models.PROTECT, related_name="versions", verbose_name=_("script"))
    number = models.PositiveIntegerField(_("version number"))
    language = models.CharField(
        _("language"), max_length=10, choices=CallScript.Language.choices, default=CallScript.Language.CHINESE
    )
    title = models.CharField(
        _("title in this language"),
        max_length=150,
        blank=True,
        help_text=_("The script's name as nurses see it in this version's language; empty: the script's name."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(_("change notes"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["script", "-number"]
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        constraints = [
            models.UniqueConstraint(fields=["script", "number"], name="script_version_unique_number"),
            models.UniqueConstraint(
                fields=["script", "language"],
                condition=models.Q(status="published"),
                name="script_version_one_published_per_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.script.name} v{self.number} ({self.get_language_display()})"

    @property
    def display_name(self) -> str:
        """The script's name in this version's language."""
        return self.title or self.script.name


class TalkingPoint(BaseModel):
    class Phase(models.TextChoices):
        PREPARATION = "preparation", _("Preparation")
        OPENING = "opening", _("Opening")
        MAIN = "main", _("Main follow-up")
        CLOSING = "closing", _("Closing")

    version = models.ForeignKey(
        ScriptVersion, on_delete=models.CASCADE, related_name="talking_points", verbose_name=_("version")
    )
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.TextField(_("what to say"))
    guidance = models.TextField(_("guidance for the nurse"), blank=True)

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("talking point")
        verbose_name_plural = _("talking points")

    def __str__(self) -> str:
        return self.text[:60]

    # As the call screen shows them ({{ text|linebreaksbr }}): worked out once
    # for a published version's points, which each process keeps
    # (calls.selectors.scripts).
    @cached_property
    def text_html(self) -> str:
        return linebreaksbr(self.text, autoescape=True)

    @cached_property
    def guidance_html(self) -> str:
        return linebreaksbr(self.guidance, autoescape=True)


class Question(BaseModel):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SCORE = "score", _("Score 1-10")
        NUMBER = "number", _("Number")
        TEXT = "text", _("Free text")

    class OutOfRange(models.TextChoices):
        REFUSE = "refuse", _("Refuse the value with a message")
        FLAG = "flag", _("Accept it with a range warning")

    version = models.ForeignKey(
        ScriptVersion, on_delete=models.CASCADE, related_name="questions", verbose_name=_("version")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.TextField(_("question"))
    help_text = models.CharField(_("hint for the nurse"), max_length=255, blank=True)
    patient_text = models.TextField(
        _("wording for patients"),
        blank=True,
        help_text=_("How the self-report form asks it (empty: the nurse's wording above)."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.YES_NO)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)
    red_flag_answers = models.JSONField(
        _("red-flag answers"),
        default=list,
        blank=True,
        help_text=_('Answers that need clinical attention, e.g. ["yes"] for chest pain.'),
    )
    # Number questions only (docs/scripts.md): unit and allowed range.
    unit = models.CharField(_("unit"), max_length=30, blank=True, help_text=_("Number questions: e.g. mmHg, kg, °C."))
    min_value = models.DecimalField(_("lowest allowed value"), max_digits=12, decimal_places=3, null=True, blank=True)
    max_value = models.DecimalField(_("highest allowed value"), max_digits=12, decimal_places=3, null=True, blank=True)
    out_of_range = models.CharField(
        _("a value outside the range"),
        max_length=10,
        choices=OutOfRange.choices,
        default=OutOfRange.REFUSE,
    )

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_value__isnull=True)
                | models.Q(max_value__isnull=True)
                | models.Q(min_value__lte=models.F("max_value")),
                name="question_range_in_order",
                violation_error_message=_("The highest allowed value must not be below the lowest."),
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def patient_wording(self) -> str:
        """What the self-report form asks: the patient-facing wording, else the nurse's."""
        return self.patient_text.strip() or self.text

    @property
    def has_range(self) -> bool:
        return self.kind == self.Kind.NUMBER and (self.min_value is not None or self.max_value is not None)

    @property
    def range_text(self) -> str:
        """The allowed range with its unit, in the UI language: "60-250 mmHg"."""
        low = plain_number(self.min_value) if self.min_value is not None else None
        high = plain_number(self.max_value) if self.max_value is not None else None
        if low is not None and high is not None:
            text = _("%(low)s to %(high)s") % {"low": low, "high": high}
        elif low is not None:
            text = _("at least %(low)s") % {"low": low}
        elif high is not None:
            text = _("at most %(high)s") % {"high": high}
        else:
            return ""
        return f"{text} {self.unit}".rstrip()

    def is_out_of_range(self, value) -> bool:
        """A number answer below the lowest or above the highest allowed value."""
        if not self.has_range or value is None or isinstance(value, bool):
            return False
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except (InvalidOperation, ValueError):
            return False
        return (self.min_value is not None and number < self.min_value) or (
            self.max_value is not None and number > self.max_value
        )

    def format_answer(self, value) -> str:
        """The answer as the nurse reads it: yes/no in the script version's
        language, a number with its unit, several choices joined."""
        if value in (None, "", []):
            return ""
        if self.kind == self.Kind.YES_NO and value in ("yes", "no"):
            return _yes_no_in(self.version.language, value)
        if self.kind == self.Kind.NUMBER and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return f"{plain_number(value)} {self.unit}".rstrip()
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


@lru_cache(maxsize=64)
def _yes_no_in(language: str, value: str) -> str:
    """ "Yes" or "No" in ``language``: switching the language for each
    answer of the call screen's earlier calls cost more than the rest of
    showing them, and the catalogues do not change while a process runs."""
    with translation.override(language):
        return str(_("Yes") if value == "yes" else _("No"))


class SatisfactionItem(BaseModel):
    """An aspect of the stay the patient scores 1-10 (nursing attitude, fees...)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("satisfaction item")
        verbose_name_plural = _("satisfaction items")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name
