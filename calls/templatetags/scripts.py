"""``{% script_block script answers_form %}``: the call script with its
questions form (calls/includes/_script.html), as that template renders it.

A published version's block is the same for every call that shows it with
an empty form: its points and questions never change (they are locked once
published), and nothing of the call or the nurse is in it. So that block is
rendered once per version, UI language and process, and kept: on the call
screen it was a tenth of the page (sixteen points and eight questions). A
form with anything in it (a draft put back, values sent back with errors)
and a draft version are rendered every time.
tests/calls/test_script_render.py compares both."""

from django import template
from django.template.loader import render_to_string
from django.utils.translation import get_language

from ..selectors.scripts import locked_key

register = template.Library()

TEMPLATE = "calls/includes/_script.html"
_KEPT = 256  # versions times languages; a hospital has some hundreds of versions
_blocks: dict[tuple, str] = {}


def _empty(form) -> bool:
    if form is None:
        return True
    return not (form.is_bound or form.initial or any(f.initial is not None for f in form.fields.values()))


@register.simple_tag
def script_block(script, answers_form=None) -> str:
    key = locked_key(script.version)
    if key is None or not _empty(answers_form):
        return render_to_string(TEMPLATE, {"script": script, "answers_form": answers_form})
    key = (*key, get_language(), None if answers_form is None else (type(answers_form), answers_form.prefix))
    html = _blocks.get(key)
    if html is None:
        html = render_to_string(TEMPLATE, {"script": script, "answers_form": answers_form})
        if len(_blocks) >= _KEPT:
            _blocks.clear()
        _blocks[key] = html
    return html
