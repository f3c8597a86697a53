"""The project's form renderer writes the plainest widgets in Python: the
HTML must be Django's own templates' to the byte, whatever the values."""

import datetime as dt

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from followup import form_renderer
from followup.form_renderer import INPUT_TEMPLATES, OPTION, SELECT, TEXTAREA, FormRenderer

HOSTILE = "\"><script>alert(1)</script>&amp;'{{ x }}"
GROUPED = [
    ("", "—"),
    (gettext_lazy("Status"), [("open", gettext_lazy("Open")), ("closed", HOSTILE)]),
    ("Numbers", [(1, 1000), (2, dt.date(2026, 11, 30))]),
]


class EveryWidget(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40, help_text="help")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "data-x": HOSTILE}))
    count = forms.IntegerField(min_value=0, widget=forms.NumberInput(attrs={"class": "narrow"}))
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    search = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "search", "autofocus": True}))
    phone = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "tel", "disabled": False}))
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.DateTimeField(required=False)
    time = forms.TimeField(required=False)
    agreed = forms.BooleanField(required=False)
    status = forms.ChoiceField(choices=GROUPED, required=False)
    nurses = forms.MultipleChoiceField(choices=[("a", "Ann"), ("b", HOSTILE), ("c", mark_safe("<b>C</b>"))])
    locked = forms.ChoiceField(choices=[("x", "X")], disabled=True)


VALUES = [
    {},
    {
        "name": HOSTILE,
        "note": f"line one\n{HOSTILE}",
        "count": "-3",
        "email": "not an address",
        "secret": HOSTILE,
        "hidden": HOSTILE,
        "search": "<",
        "day": "2026-11-30",
        "at": "2026-11-30 09:15",
        "time": "nonsense",
        "agreed": "on",
        "status": "closed",
        "nurses": ["a", "c"],
        "locked": "x",
    },
    {"status": "2", "nurses": ["zzz"], "count": "12"},
]


def _widgets(form: forms.Form) -> list[str]:
    return [str(form[name]) for name in form.fields]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("data", VALUES)
def test_every_plain_widget_is_written_as_djangos_templates_write_it(language, data):
    with translation.override(language):
        bound = data != {}
        expected = _widgets(EveryWidget(data if bound else None, renderer=DjangoTemplates(), initial={"name": HOSTILE}))
        written = _widgets(EveryWidget(data if bound else None, renderer=FormRenderer(), initial={"name": HOSTILE}))
        assert written == expected
        # the values are escaped, never raw markup
        assert "<script>" not in "".join(written)


def test_all_written_widgets_are_djangos_own_here():
    assert FormRenderer()._django_own == {*INPUT_TEMPLATES, SELECT, OPTION, TEXTAREA}


def test_a_select_whose_option_template_is_overridden_goes_through_the_templates(monkeypatch):
    """Where the option template found is not Django's (an app overrides
    it), selects are rendered by the templates, so the override shows."""
    renderer = FormRenderer()
    renderer.__dict__["_django_own"] = frozenset({SELECT, TEXTAREA, *INPUT_TEMPLATES})

    def written(widget):
        raise AssertionError("written in Python despite the override")

    monkeypatch.setattr(form_renderer, "_select", written)

    assert str(EveryWidget(renderer=renderer)["status"]) == str(EveryWidget(renderer=DjangoTemplates())["status"])
