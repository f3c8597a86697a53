"""Weekdays as the models store them -- a JSON list of numbers, Monday 0 to
Sunday 6 -- checked by the models (``weekdays_problem``) and chosen on forms
with one checkbox per day (``WeekdaysField``), labelled with Django's own
translated day names."""

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

WEEKDAY_CHOICES = [(number, WEEKDAYS[number]) for number in range(7)]


def weekdays_problem(value) -> str | None:
    """What is wrong with a stored list of weekdays (None when nothing is):
    it must hold at least one day, each a number from 0 to 6, each once."""
    if not value:
        return gettext("Choose at least one weekday.")
    if not isinstance(value, list) or any(
        isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6 for day in value
    ):
        return gettext("Weekdays are numbers from 0 (Monday) to 6 (Sunday).")
    if len(set(value)) != len(value):
        return gettext("Choose each weekday only once.")
    return None


class WeekdaysField(forms.TypedMultipleChoiceField):
    """Monday to Sunday as checkboxes; cleans to a sorted list of numbers."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"required": _("Choose at least one weekday.")})
        super().__init__(choices=WEEKDAY_CHOICES, coerce=int, **kwargs)

    def clean(self, value):
        return sorted(set(super().clean(value)))
