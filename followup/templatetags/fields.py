"""``{{ field|simple_field }}``: a form field as crispy-forms' bootstrap5
``as_crispy_field`` renders it -- the same wrapper, label, classes, errors
and help text -- for the fields of one plain input or select with no help text, without
crispy's templates (its field template and the five it includes cost some
0.7 ms a field: the worklist's filters and reassignment took 4 ms a page).
Any other field (check boxes, radios, files, several widgets, a help text,
which crispy shows unescaped) is passed to as_crispy_field itself. tests/followup/test_simple_field.py compares both."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from crispy_forms.templatetags.crispy_forms_tags import CrispyFormNode
from django import forms, template
from django.forms.widgets import Input
from django.utils.html import format_html, format_html_join

from followup.crispy_lite import render_form

register = template.Library()

_LEFT_TO_CRISPY = (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple, forms.FileInput)


def _add_classes(widget: forms.Widget, *names: str) -> None:
    """What crispy's ``crispy_field`` tag does to the widget: its class name,
    then the Bootstrap classes, each once."""
    classes = widget.attrs.get("class", "")
    for name in names:
        if name not in classes.split():
            classes = f"{classes} {name}" if classes else name
    widget.attrs["class"] = classes


@register.filter
def simple_field(field: forms.BoundField) -> str:
    widget = field.field.widget
    if field.is_hidden:
        return str(field)
    if field.help_text or not isinstance(widget, (Input, forms.Select)) or isinstance(widget, _LEFT_TO_CRISPY):
        return as_crispy_field(field)
    # The form's crispy helper, as as_crispy_field reads it: errors in a <span>
    # with one (crispy's default), in a <p> without; anything else it can
    # change is left to crispy.
    helper = getattr(field.form, "helper", None)
    shown = helper.get_attributes("bootstrap5") if helper is not None else {}
    if any(shown.get(name) for name in ("label_class", "field_class", "wrapper_class")) or (
        shown.get("field_template") not in (None, "bootstrap5/field.html")
        or not shown.get("form_show_labels", True)
        or not shown.get("form_show_errors", True)
    ):
        return as_crispy_field(field)
    error_tag = "span" if shown.get("error_text_inline") else "p"
    kind = widget.__class__.__name__.lower()
    _add_classes(widget, kind)
    bootstrap = "form-select" if isinstance(widget, forms.Select) else "form-control"
    _add_classes(widget, *(bootstrap, "is-invalid") if field.errors else (bootstrap,))
    required = field.field.required
    label = ""
    if field.label:
        label = format_html(
            '<label{} class="form-label requiredField">{}<span class="asteriskField">*</span></label>'
            if required
            else '<label{} class="form-label">{}</label>',
            format_html(' for="{}"', field.id_for_label) if field.id_for_label else "",
            field.label,
        )
    errors = ""
    if field.errors:
        errors = format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.errors.field_id,
            format_html_join(
                "",
                '<{} id="error_{}_{}"><strong>{}</strong></{}>',
                ((error_tag, n, field.auto_id, error, error_tag) for n, error in enumerate(field.errors, start=1)),
            ),
        )
    return format_html(
        '<div id="div_{}" class="mb-3{}">{}{}{}</div>',
        field.auto_id,
        f" {field.css_classes()}" if field.css_classes() else "",
        label,
        str(field),
        errors,
    )


@register.simple_tag(takes_context=True)
def crispy_lite(context, form):
    """``{% crispy_lite form %}``: what ``{% crispy form %}`` renders, put
    together in Python (followup/crispy_lite.py) when it can be, by crispy
    itself otherwise."""
    html = render_form(form, context.get("csrf_token"))
    if html is not None:
        return html
    with context.push(crispy_lite_form=form):
        return CrispyFormNode("crispy_lite_form", None).render(context)
