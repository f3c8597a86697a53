from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class CallScript(models.Model):
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


class ScriptVersion(models.Model):
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


class TalkingPoint(models.Model):
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


class Question(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SCORE = "score", _("Score 1-10")
        NUMBER = "number", _("Number")
        TEXT = "text", _("Free text")

    version = models.ForeignKey(
        ScriptVersion, on_delete=models.CASCADE, related_name="questions", verbose_name=_("version")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.TextField(_("question"))
    help_text = models.CharField(_("hint for the nurse"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.YES_NO)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)
    red_flag_answers = models.JSONField(
        _("red-flag answers"),
        default=list,
        blank=True,
        help_text=_('Answers that need clinical attention, e.g. ["yes"] for chest pain.'),
    )

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text[:60]


class SatisfactionItem(models.Model):
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
