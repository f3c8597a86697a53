"""Forms of the followup app: the audit trail's filters, and the field every
app uses for free text a person types."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from .dates import PeriodDateField
from .models import AuditEvent, User

# The longest free text a form accepts: more than a person writes or pastes
# (a complainant's letter, a long call summary), far less than a body that
# DATA_UPLOAD_MAX_MEMORY_SIZE refuses (several such texts in Chinese fit).
LONG_TEXT_MAX_CHARS = 20_000


def validate_long_text(value: str) -> None:
    if len(value) > LONG_TEXT_MAX_CHARS:
        raise ValidationError(
            _("This text is %(length)s characters long; the limit is %(limit)s. Shorten it and save again."),
            code="max_length",
            params={
                "length": number_format(len(value), force_grouping=True),
                "limit": number_format(LONG_TEXT_MAX_CHARS, force_grouping=True),
            },
        )


def filter_form_helper(submit: Submit) -> FormHelper:
    """The layout of every filter above a list or a dashboard: one row of
    fields sent by GET, the button at the end, left out of the printout."""
    helper = FormHelper()
    helper.form_method = "get"
    helper.form_class = "row row-cols-md-auto g-2 align-items-end d-print-none"
    helper.add_input(submit)
    return helper


class FetchedChoices(forms.models.ModelChoiceIterator):
    """A ModelChoiceField's choices read by one plain query (``field.iterator
    = FetchedChoices``, set before its queryset): Django's own iterator()
    opens a server-side cursor (on PostgreSQL a DECLARE ... WITH HOLD,
    materialised at once), a round trip and a copy more for a short list."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # field.fetched: the queryset's objects, read already (a statement
        # compiled once); the queryset still checks what is sent.
        fetched = getattr(self.field, "fetched", None)
        for obj in self.queryset if fetched is None else fetched:
            yield self.choice(obj)


class LongTextField(forms.CharField):
    """A text area for notes, descriptions, replies and answers, up to
    LONG_TEXT_MAX_CHARS characters. Longer text is refused with a message
    that says by how much, and the form shows it again as typed. There is
    deliberately no ``maxlength`` attribute on the text area: a browser
    silently cuts a paste at that length, and the person never learns that
    the end of their text is gone."""

    default_validators = [validate_long_text]

    def __init__(self, *, rows: int = 2, **kwargs):
        kwargs.pop("max_length", None)  # a model TextField offers None
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)


class AuditFilterForm(forms.Form):
    """Who, what and which days (inclusive) of a trail, from the query string.
    Every field is optional; a value that does not validate is reported and
    left out of the filter, never a server error."""

    actor = forms.ModelChoiceField(
        label=_("Who"), queryset=User.objects.none(), required=False, empty_label=_("Everyone")
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = PeriodDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = PeriodDateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, actors: QuerySet[User], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["actor"].queryset = actors
        self.fields["action"].choices = [("", _("Any action")), *AuditEvent.Action.choices]
        self.helper = filter_form_helper(Submit("show", _("Show"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            del cleaned["since"], cleaned["until"]
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, even when another field was refused."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "actor": data.get("actor"),
            "action": data.get("action") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }
