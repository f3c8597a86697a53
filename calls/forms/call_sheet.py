"""The call sheet's choice of day (and, for a head nurse, of nurse)."""

import datetime as dt

from crispy_forms.layout import Submit
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from followup.dates import PlausibleDateField
from followup.forms import filter_form_helper
from followup.models import User


class CallSheetForm(forms.Form):
    """Which day to print, from the query string; a head nurse may also pick
    one nurse of her wards (``nurses``; None for a nurse, who prints her own)."""

    day = PlausibleDateField(
        future=True, required=False, label=_("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    nurse = forms.ModelChoiceField(
        label=_("Nurse"), queryset=User.objects.none(), required=False, empty_label=_("Every nurse of the ward")
    )

    def __init__(self, data=None, *, today: dt.date, nurses: QuerySet[User] | None = None, **kwargs):
        super().__init__(data, initial={"day": today}, **kwargs)
        self.today = today
        if nurses is None:
            del self.fields["nurse"]
        else:
            self.fields["nurse"].queryset = nurses
        self.helper = filter_form_helper(Submit("show", _("Show the sheet"), css_class="btn-primary"))

    def clean_day(self) -> dt.date:
        day = self.cleaned_data["day"] or self.today
        if day < self.today:
            raise forms.ValidationError(
                _("Choose today or a later day: the sheet lists the calls still to make."), code="past_day"
            )
        return day

    def choice(self) -> tuple[dt.date, User | None] | None:
        """(day, nurse) to print, today when no day is given; None when refused."""
        if not self.is_bound:
            return self.today, None
        if not self.is_valid():
            return None
        return self.cleaned_data["day"], self.cleaned_data.get("nurse")
