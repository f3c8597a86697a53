"""``{{ field|simple_field }}``: a form field as crispy-forms' bootstrap5
``as_crispy_field`` renders it -- the same wrapper, label, classes, errors
and help text -- and ``{% crispy_lite form %}``: a form as ``{% crispy form %}``
renders it, both put together in Python (followup/crispy_lite.py) instead
of crispy's templates (its field template and the five it includes cost
some 0.7 ms a field: the worklist's filters and reassignment took 4 ms a
page, the call screen's forms 19 ms). Anything crispy_lite does not know is
passed to crispy itself. tests/followup/test_simple_field.py and
test_crispy_lite.py compare both."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from crispy_forms.templatetags.crispy_forms_tags import CrispyFormNode
from django import forms, template

from followup.crispy_lite import render_field, render_form

register = template.Library()


@register.filter
def simple_field(field: forms.BoundField) -> str:
    html = render_field(field)
    return html if html is not None else as_crispy_field(field)


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
