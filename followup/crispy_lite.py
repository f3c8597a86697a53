"""A form as ``{% crispy form %}`` renders it with crispy-bootstrap5 -- the
same elements, ids, classes, labels, required asterisks, errors, help texts
(escaped, as templates/bootstrap5/layout/help_text.html does) and buttons --
put together in Python instead of crispy's templates.

Crispy renders every field through its field template and the five it
includes, and every radio button through one more: the call screen's four
forms took some 20 ms a page that way. Only what those forms use is done
here: plain inputs, selects, text areas, check boxes, radio buttons and
check box lists, ``Field``, ``InlineRadios``, ``AppendedText``, ``Div`` and
``Fieldset`` layouts, the helper's buttons, and the ``<form>`` tag. For any
other form, layout object or helper setting ``render_form`` returns None and
the caller lets crispy render it (``{% crispy_lite form %}`` in
followup/templatetags/fields.py does). Between tags there is a space where
crispy's output has white space, so the page looks the same;
tests/followup/test_crispy_lite.py compares both outputs."""

from typing import NamedTuple

from crispy_forms.bootstrap import AppendedText, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.forms.utils import flatatt
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from .form_renderer import attrs_html as _attrs
from .form_renderer import escaped as _e


class Shown(NamedTuple):
    """How the helper shows errors and help texts: in <span>s or <p>s, and
    a help text as a <span> before the errors or a <div> after them."""

    error_tag: str
    inline_help: bool


class Unsupported(Exception):
    """Something crispy_lite does not render as crispy would: let crispy do it."""


# What crispy's templates read from a helper besides the usual attributes;
# a helper that sets one is left to crispy.
_HELPER_EXTRAS = ("wrapper_class", "inline_class", "tag", "input_size", "form_group_wrapper_class", "template")
_LAYOUT_TEMPLATES = {
    Field: "%s/field.html",
    InlineRadios: "%s/layout/radioselect_inline.html",
    AppendedText: "%s/layout/prepended_appended_text.html",
    Div: "%s/layout/div.html",
    Fieldset: "%s/layout/fieldset.html",
}


def _check_helper(helper: FormHelper) -> None:
    if (
        (getattr(helper, "template_pack", None) or "bootstrap5") != "bootstrap5"
        or helper.field_template
        or helper.label_class
        or helper.field_class
        or (helper.help_text_inline and helper.error_text_inline)
        or not helper.form_show_labels
        or not helper.form_show_errors
        or helper.render_unmentioned_fields
        or helper.render_hidden_fields
        or helper.render_required_fields
        or "form-horizontal" in (helper.form_class or "").split()
        or any(getattr(helper, name, None) for name in _HELPER_EXTRAS)
    ):
        raise Unsupported


def _add_classes(widget: forms.Widget, *names: str) -> None:
    """What crispy's ``crispy_field`` tag does to the widget: its class name
    (unless already part of its classes, as a substring), then each class
    not there yet."""
    classes = widget.attrs.get("class", "")
    kind = widget.__class__.__name__.lower()
    if not classes:
        classes = kind
    elif classes.find(kind) == -1:
        classes += f" {kind}"
    present = classes.split()
    for name in names:
        if name not in present:
            classes += f" {name}"
            present.append(name)
    widget.attrs["class"] = classes


def _label_text(field: forms.BoundField) -> str:
    text = _e(field.label)
    return f'{text}<span class="asteriskField">*</span>' if field.field.required else text


def _errors(field: forms.BoundField, tag: str, errors) -> str:
    if not errors:
        return ""
    items = " ".join(
        f'<{tag} id="error_{n}_{field.auto_id}"><strong>{_e(error)}</strong></{tag}>'
        for n, error in enumerate(errors, start=1)
    )
    return f' <div id="{_e(errors.field_id)}_error" class="invalid-feedback"> {items} </div>'


def _help_text(field: forms.BoundField, inline: bool) -> str:
    # templates/bootstrap5/layout/help_text.html: escaped, unlike crispy's own.
    if not field.help_text:
        return ""
    text = _e(field.help_text)
    if inline:
        return f' <span id="{_e(field.auto_id)}_helptext" class="form-text" hx-disable>{text}</span>'
    id_attr = f'id="{_e(field.auto_id)}_helptext" ' if field.auto_id else ""
    return f' <div {id_attr}class="form-text" hx-disable>{_e(field.help_text)}</div>'


def _help_and_errors(field: forms.BoundField, shown: Shown, errors) -> str:
    # bootstrap5/layout/help_text_and_errors.html
    if shown.inline_help:
        return _help_text(field, True) + _errors(field, shown.error_tag, errors)
    return _errors(field, shown.error_tag, errors) + _help_text(field, False)


def _choices(field: forms.BoundField, shown: Shown, errors, *, inline: bool) -> str:
    """bootstrap5/layout/radio_checkbox_select.html, with field_class and
    flat_attrs empty; then the help text."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    invalid = " is-invalid" if errors else ""
    check = "form-check form-check-inline" if inline else "form-check"
    name = _e(field.html_name)
    parts = []
    for g, (group, options, _index) in enumerate(groups):
        if group:
            parts.append(f"<strong>{_e(group)}</strong>")
        for o, option in enumerate(options):
            shown_errors = ""
            if errors and not inline and o == len(options) - 1 and g == len(groups) - 1:
                shown_errors = _errors(field, "p", errors)
            parts.append(
                f'<div class="{check}"> <input type="{_e(option["type"])}" class="form-check-input{invalid}"'
                f' name="{name}" value="{_unlocalized(option["value"])}"{_attrs(option["attrs"])}>'
                f' <label for="{_e(option["attrs"].get("id", ""))}" class="form-check-label">'
                f"{_unlocalized(option['label'])}</label>{shown_errors} </div>"
            )
    html = f"<div> {' '.join(parts)} </div>"
    if errors and inline:
        html += _errors(field, "p", errors)
    return html + _help_text(field, shown.inline_help)


def _unlocalized(value) -> str:
    # The ``unlocalize`` filter on a choice's value and label, then autoescaped.
    return _e(value if isinstance(value, str) else str(localize(value, use_l10n=False)))


def _wrapper_classes(field: forms.BoundField, wrapper_class: str | None) -> str:
    css = field.css_classes()
    return (f" {wrapper_class}" if wrapper_class else "") + (f" {css}" if css else "")


def _field(field: forms.BoundField, shown: Shown, *, wrapper_class=None, inline=False) -> str:
    """bootstrap5/field.html (or layout/radioselect_inline.html when inline)."""
    if field.is_hidden:
        return str(field)
    widget = field.field.widget
    if isinstance(widget, (forms.MultiWidget, forms.FileInput)) or hasattr(widget, "widget"):
        raise Unsupported
    div_id = f"div_{_e(field.auto_id)}"
    required = " requiredField" if field.field.required else ""
    errors = field.errors
    invalid = " is-invalid" if errors else ""
    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        if inline and not isinstance(widget, forms.RadioSelect):
            raise Unsupported  # InlineCheckboxes is another template
        html = f'<div id="{div_id}" class="mb-3{_wrapper_classes(field, wrapper_class)}">'
        if not field.label:
            return f"{html} {_choices(field, shown, errors, inline=inline)} </div>"
        described = field.aria_describedby
        described = f' aria-describedby="{_e(described)}"' if described else ""
        if inline:
            legend = f'<legend for="{_e(field.id_for_label)}" class=" fs-6 form-label{required}">'
        else:
            for_attr = f'for="{_e(field.id_for_label)}" ' if field.id_for_label else ""
            legend = f'<legend {for_attr}class="form-label{required} fs-6">'
        return (
            f"{html} <fieldset{described}> {legend}{_label_text(field)} </legend>"
            f" {_choices(field, shown, errors, inline=inline)} </fieldset> </div>"
        )
    if inline:
        raise Unsupported
    if isinstance(widget, forms.CheckboxInput):
        _add_classes(widget, "form-check-input", *(("is-invalid",) if invalid else ()))
        return (
            f'<div class="mb-3"> <div id="{div_id}" class="form-check{_wrapper_classes(field, wrapper_class)}">'
            f' {field!s} <label for="{_e(field.id_for_label)}" class="form-check-label{required}">'
            f"{_label_text(field)} </label>{_help_and_errors(field, shown, errors)} </div> </div>"
        )
    if field.use_fieldset:
        raise Unsupported
    label = ""
    if field.label:
        for_attr = f'for="{_e(field.id_for_label)}" ' if field.id_for_label else ""
        label = f' <label {for_attr}class="form-label{required}">{_label_text(field)} </label>'
    _add_classes(
        widget,
        "form-select" if isinstance(widget, forms.Select) else "form-control",
        *((invalid[1:],) if invalid else ()),
    )
    return (
        f'<div id="{div_id}" class="mb-3{_wrapper_classes(field, wrapper_class)}">{label}'
        f" {field!s}{_help_and_errors(field, shown, errors)} </div>"
    )


def _appended(field: forms.BoundField, text, shown: Shown, *, wrapper_class=None) -> str:
    """bootstrap5/layout/prepended_appended_text.html with an appended text only."""
    if field.is_hidden:
        return str(field)
    widget = field.field.widget
    if isinstance(widget, (forms.MultiWidget, forms.FileInput, forms.CheckboxInput, forms.RadioSelect)):
        raise Unsupported
    errors = field.errors
    danger = " has-danger" if errors else ""
    css = field.css_classes()
    classes = (f" {wrapper_class}" if wrapper_class else "") + danger + (f" {css}" if css else "")
    label = ""
    if field.label:
        required = " requiredField" if field.field.required else ""
        label = f' <label for="{_e(field.id_for_label)}" class="form-label{required}">{_label_text(field)} </label>'
    invalid = ("is-invalid",) if errors else ()
    _add_classes(widget, "form-select" if isinstance(widget, forms.Select) else "form-control", *invalid)
    return (
        f'<div id="div_{_e(field.auto_id)}" class="mb-3{classes}">{label} <div> <div class="input-group">'
        f' {field!s} <span class="input-group-text">{_e(text)}</span>'
        f"{_errors(field, shown.error_tag, errors)}"
        f" </div>{'' if shown.inline_help else _help_text(field, False)} </div> </div>"
    )


def _bound(form: forms.BaseForm, name) -> forms.BoundField:
    if not isinstance(name, str) or name not in form.fields:
        raise Unsupported  # crispy logs and skips an unknown name
    return form[name]


def _layout(form: forms.BaseForm, item, shown: Shown) -> str:
    if isinstance(item, str):
        return _field(_bound(form, item), shown)
    kind = type(item)
    if kind is Layout:
        return " ".join(_layout(form, child, shown) for child in item.fields)
    if kind not in _LAYOUT_TEMPLATES or item.template != _LAYOUT_TEMPLATES[kind]:
        raise Unsupported
    if kind in (Field, InlineRadios, AppendedText):
        if item.attrs:
            raise Unsupported  # they would be added to the widget and the radios' <div>
        if kind is AppendedText:
            if item.prepended_text or item.input_size or item.active:
                raise Unsupported
            return " ".join(
                _appended(_bound(form, name), item.appended_text, shown, wrapper_class=item.wrapper_class)
                for name in item.fields
            )
        return " ".join(
            _field(_bound(form, name), shown, wrapper_class=item.wrapper_class, inline=kind is InlineRadios)
            for name in item.fields
        )
    inner = " ".join(_layout(form, child, shown) for child in item.fields)
    id_attr = f' id="{_e(item.css_id)}"' if item.css_id else ""
    class_attr = f' class="{_e(item.css_class)}"' if item.css_class else ""
    if kind is Div:
        return f"<div{id_attr}{class_attr}{item.flat_attrs}> {inner} </div>"
    legend = str(item.legend) if item.legend else ""
    if "{" in legend:
        raise Unsupported  # crispy renders a legend as a template
    # Like crispy, the legend is not escaped: it is the form's own text.
    legend = f" <legend>{legend}</legend>" if legend else ""
    return f"<fieldset{id_attr}{class_attr}{item.flat_attrs}>{legend} {inner} </fieldset>"


def _inputs(helper: FormHelper) -> str:
    """bootstrap5/inputs.html and layout/baseinput.html."""
    buttons = []
    for button in helper.inputs:
        if type(button).template != "%s/layout/baseinput.html" or button.template != type(button).template:
            raise Unsupported
        name = slugify(button.name) if len(button.name.split()) > 1 else button.name
        visible = "" if button.input_type == "hidden" else f' class="{_e(button.field_classes)}" id="{_e(button.id)}"'
        flat = f" {button.flat_attrs}" if button.flat_attrs else ""
        buttons.append(
            f'<input type="{_e(button.input_type)}" name="{_e(name)}" value="{_e(button.value)}"{visible}{flat} />'
        )
    return f' <div class="mb-3"> <div class=""> {" ".join(buttons)} </div> </div>' if buttons else ""


def render_field(field: forms.BoundField) -> SafeString | None:
    """The field as crispy's ``as_crispy_field`` renders it (with the form
    helper's settings, as that filter reads them), or None when crispy has to."""
    helper = getattr(field.form, "helper", None)
    try:
        if helper is None:
            shown = Shown("p", False)  # as_crispy_field without a helper: neither inline
        else:
            _check_helper(helper)
            shown = Shown("span" if helper.error_text_inline else "p", helper.help_text_inline)
        html = _field(field, shown)
    except Unsupported:
        return None
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - escaped in _field


def render_form(form: forms.BaseForm, csrf_token=None) -> SafeString | None:
    """The form as ``{% crispy form %}`` renders it, or None when crispy has
    to (something not done here). ``csrf_token``: the template context's,
    for a helper with a form tag posting with CSRF."""
    helper = getattr(form, "helper", None)
    if helper is None:
        helper = FormHelper()
    try:
        _check_helper(helper)
        if helper.include_media:
            media = form.media  # every widget's, merged: worked out once
            if media._css or media._js:
                raise Unsupported
        shown = Shown("span" if helper.error_text_inline else "p", helper.help_text_inline)
        if helper.layout:
            body = _layout(form, helper.layout, shown)
        else:
            body = " ".join(_field(field, shown) for field in form)
        inputs = _inputs(helper)
    except Unsupported:
        return None
    errors = ""
    if form.non_field_errors():
        title = helper.form_error_title.strip() if helper.form_error_title else ""
        title = f'<h4 class="alert-heading">{_e(title)}</h4> ' if title else ""
        items = " ".join(f"<li>{_e(error)}</li>" for error in form.non_field_errors())
        errors = f'<div class="alert alert-block alert-danger"> {title}<ul class="m-0"> {items} </ul> </div> '
    html = f"{errors}{body}{inputs}"
    method = helper.form_method.strip()
    if method.lower() == "post" and not helper.disable_csrf and csrf_token and csrf_token != "NOTPROVIDED":  # noqa: S105 - Django's "no token" marker
        html = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}"> {html}'
    if helper.form_tag:
        attrs = helper.get_attributes()["attrs"]
        multipart = ' enctype="multipart/form-data"' if form.is_multipart() else ""
        html = f'<form {flatatt(attrs)} method="{_e(method)}" {multipart}> {html} </form>'
    # Every value in it is escaped above, as crispy's templates do.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703
