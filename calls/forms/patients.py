"""The patient search (one box: name, phone or inpatient number)."""

from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from followup.forms import filter_form_helper

SEARCH_MAX_CHARS = 100


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone or inpatient number (MRN)"),
        max_length=SEARCH_MAX_CHARS,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = filter_form_helper(Submit("find", _("Find"), css_class="btn-primary"))

    def text(self) -> str:
        """The words to look for; empty when nothing (valid) was typed."""
        if not self.is_bound or not self.is_valid():
            return ""
        return self.cleaned_data["q"]
