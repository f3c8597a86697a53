"""The form renderer (settings.FORM_RENDERER): Django's, but the plainest
widgets -- a one-line input of any type, a check box, a text area and a
select with its options -- are written out in Python, byte for byte as
Django's own widget templates write them.

Those templates include one another (a select includes a template per
option, each including the attributes template): a select of twenty nurses
was some forty template renders, a millisecond or more, and the worklist and
the call screen show several. Anything else -- another widget, an option
template of a widget's own, or a project template that overrides one of
Django's widget templates -- goes through the templates as before.
tests/followup/test_form_renderer.py compares both for every widget this
writes, hostile values included."""

from functools import cached_property
from html import escape as _html_escape

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = tuple(
    f"{WIDGETS}{name}.html"
    for name in (
        *("input", "text", "number", "email", "url", "password", "hidden", "search", "tel", "color"),
        *("date", "datetime", "time", "checkbox"),
    )
)
SELECT, OPTION, TEXTAREA = f"{WIDGETS}select.html", f"{WIDGETS}select_option.html", f"{WIDGETS}textarea.html"
# What a template variable gets: localized, time-zone converted and escaped.
_VALUES = Context(autoescape=True)


def _escape(text: str) -> str:
    """Django's ``escape`` (which is ``html.escape``) without the lazy-string
    wrapper it is decorated with: its check of every argument cost more
    than the escaping, some hundreds of times a form."""
    return _html_escape(text)


def escaped(value) -> str:
    """``conditional_escape`` without its lazy-string wrapper (called some
    thousands of times a page where HTML is written in Python): a safe
    string as it is, anything else escaped as ``escape`` does."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value))


def _value(value) -> str:
    """``{{ value }}`` in a template (a plain text needs no localizing)."""
    if type(value) is str:
        return _escape(value)
    return render_value_in_context(value, _VALUES)


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: the value as text, escaped unless it is safe."""
    if isinstance(value, SafeData):
        return str(value)
    return _escape("%s" % (str(value) if isinstance(value, tuple) else value))


def attrs_html(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_value(name)}" if value is True else f' {_value(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"{value}{attrs_html(widget["attrs"])}>'
    )


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{_value(widget["name"])}"{attrs_html(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_value(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION:
                return None  # an option template of the widget's own
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{attrs_html(option["attrs"])}>'
                f"{_value(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = _value(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_value(widget["name"])}"{attrs_html(widget["attrs"])}>\n{value}</textarea>'


class FormRenderer(DjangoTemplates):
    @cached_property
    def _django_own(self) -> frozenset[str]:
        """The widget templates this renderer writes that nothing overrides
        (the template found is Django's own)."""
        own = set()
        for name in (*INPUT_TEMPLATES, SELECT, OPTION, TEXTAREA):
            origin = self.get_template(name).origin.name
            if origin.replace("\\", "/").endswith(f"/django/forms/templates/{name}"):
                own.add(name)
        return frozenset(own)

    def render(self, template_name, context, request=None):
        if template_name in self._django_own:
            widget = context["widget"]
            html = None
            if template_name in INPUT_TEMPLATES:
                html = _input(widget)
            elif template_name == SELECT and OPTION in self._django_own:
                html = _select(widget)
            elif template_name == TEXTAREA:
                html = _textarea(widget)
            if html is not None:
                return html.strip()  # marked safe by the widget, as a template's output is
        return super().render(template_name, context, request)
