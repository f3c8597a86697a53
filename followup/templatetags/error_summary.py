"""The error summary every form page shows above its form when a submission
is refused (issue 17, item 3; docs/forms.md):

    {% load error_summary %}
    {% error_summary attempt_form answers_form complete_form %}

One box for all the forms given (unbound forms and ``None`` are skipped; a
list or a dict of forms counts as its forms), in the order given: each message names
its field and links to it; messages that belong to no visible field (the
form's own, a hidden field's) are listed without a link. The box is
``role="alert"`` with ``tabindex="-1"``; static/js/error-summary.js moves the
focus to it when the page loads and makes each link focus its field."""

from dataclasses import dataclass

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class ErrorItem:
    message: str
    label: str = ""
    target: str = ""  # the id of the element the link focuses


def _target_id(bound: forms.BoundField) -> str:
    """The id of the input to focus: the field's own, or the first choice of
    a radio or checkbox group (whose labels point at each choice)."""
    if bound.id_for_label:
        return bound.id_for_label
    subwidgets = bound.subwidgets
    if subwidgets:
        return subwidgets[0].data["attrs"].get("id", "") or bound.auto_id or ""
    return bound.auto_id or ""


def _forms(values) -> list[forms.BaseForm]:
    """The bound forms among ``values``: forms, and lists, tuples or dicts
    (their values) of forms."""
    found = []
    for value in values:
        if isinstance(value, forms.BaseForm):
            if value.is_bound:
                found.append(value)
        elif isinstance(value, dict):
            found.extend(_forms(value.values()))
        elif isinstance(value, list | tuple) or type(value).__name__ == "dict_values":
            found.extend(_forms(value))
    return found


def _page_order(form: forms.BaseForm) -> list[str]:
    """The form's field names as crispy lays them out (a helper's layout may
    reorder them), then any field the layout leaves out."""
    layout = getattr(getattr(form, "helper", None), "layout", None)
    names = [pointer.name for pointer in layout.get_field_names()] if layout is not None else []
    laid_out = [name for name in dict.fromkeys(names) if name in form.fields]
    return laid_out + [name for name in form.fields if name not in laid_out]


def error_items(*values) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    for form in _forms(values):
        items.extend(ErrorItem(message=str(message)) for message in form.non_field_errors())
        # In the order the fields are on the page, not the order they failed.
        for name in [name for name in _page_order(form) if name in form.errors]:
            field_errors = form.errors[name]
            bound = form[name]
            if bound.is_hidden:
                items.extend(ErrorItem(message=str(message)) for message in field_errors)
                continue
            target = _target_id(bound)
            items.extend(
                ErrorItem(message=str(message), label=str(bound.label or ""), target=target) for message in field_errors
            )
    return items


@register.inclusion_tag("followup/includes/_error_summary.html", takes_context=True)
def error_summary(context, *values) -> dict:
    items = error_items(*values)
    request = context.get("request")
    # A refused POST changed nothing: say so. A GET (filters) only asks to correct.
    return {"items": items, "count": len(items), "posted": getattr(request, "method", "") == "POST"}
