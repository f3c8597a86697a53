"""``{% worklist_row call selectable %}``: one row of the worklist, written
in Python. A page shows 25 rows; the row as an included template (some
twenty tags and lookups) cost about a quarter of a millisecond each, and
even format_html per cell and gettext per word (each through the lazy-string
checks and the thread-local language) cost a fifth of that. So the words are
translated once per language (``_words``) and every value is escaped with
``_e``, exactly as a template escapes it. calls.views.worklist sets what the
row shows beyond the call's own fields (detail_url, patient_url,
planned_text, masked_phone, age, days_since_discharge);
tests/calls/test_worklist_row.py checks the row in both languages, hostile
values included."""

from functools import cache

from django import template
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from followup.form_renderer import escaped as _e

from ..models import FollowUpCall
from .risk import tier_badge_html

register = template.Library()

NOTE_SHOWN = 140  # characters of the patient's note on the row
NONE = "–"


@cache
def _words(language: str | None) -> dict:
    """The row's fixed words in ``language`` (the active one when called:
    the catalogues do not change while the process runs)."""
    return {
        "red_flag": _("Red flag"),
        "callback_due": _("Callback due"),
        "callback": _("Callback"),
        "overdue": _("Overdue"),
        "asked": _("Patient asked for a call"),
        "note": _("Patient's note: %(note)s"),
        "select": _("Select the call of %(name)s"),
        "patient_page": _("Patient page"),
        "booked": _("booked"),
        "day": _("day %(days)s"),
        "status": {value: str(label) for value, label in FollowUpCall.Status.choices},
    }


def _badges(call, words: dict) -> str:
    badges = []
    if call.has_red_flag:
        badges.append(f'<span class="badge text-bg-danger ms-1">{_e(words["red_flag"])}</span>')
    if call.callback_at:
        if call.callback_due:
            badges.append(
                f'<span class="badge text-bg-primary ms-1 worklist-callback">{_e(words["callback_due"])}</span>'
            )
        else:
            badges.append(f'<span class="badge text-bg-info ms-1 worklist-callback">{_e(words["callback"])}</span>')
    if call.is_overdue:
        badges.append(f'<span class="badge text-bg-warning ms-1">{_e(words["overdue"])}</span>')
    if call.patient_asked:
        badges.append(f'<span class="badge text-bg-info ms-1">{_e(words["asked"])}</span>')
        if call.patient_note:
            note = words["note"] % {"note": Truncator(call.patient_note).chars(NOTE_SHOWN)}
            badges.append(f'<div class="small text-body-secondary">{_e(note)}</div>')
    return "\n    ".join(badges)


@register.simple_tag
def worklist_row(call, selectable=False) -> str:
    words = _words(get_language())
    patient, stay = call.discharge.patient, call.discharge
    pk = int(call.pk)
    select = ""
    if selectable:
        disabled = "" if call.is_open else " disabled"
        label = _e(words["select"] % {"name": patient.name})
        select = (
            f'<td><input class="form-check-input" type="checkbox" name="calls" value="{pk}" id="select-{pk}"'
            f"{disabled}>\n"
            f'    <label class="visually-hidden" for="select-{pk}">{label}</label></td>\n  '
        )
    row_class = "table-danger" if call.has_red_flag else "table-warning" if call.is_overdue else ""
    step = words["day"] % {"days": call.step.offset_days} if call.step else words["booked"]
    nurse = NONE if call.assigned_to is None else call.assigned_to
    html = (
        f'<tr class="{row_class}">\n  {select}<td><a class="person-name" href="{_e(call.detail_url)}">'
        f"{_e(patient.name)}</a>\n    {_badges(call, words)}\n"
        f'    <a class="small ms-2 text-nowrap patient-page-link d-print-none" href="{_e(call.patient_url)}">'
        f"{_e(words['patient_page'])}</a>\n  </td>\n"
        f'  <td class="worklist-risk">{tier_badge_html(stay)}</td>\n'
        f"  <td>{_e(NONE if call.age is None else call.age)}</td>\n"
        f"  <td>{_e(stay.department.name)}</td>\n"
        f"  <td>{_e(call.days_since_discharge)}</td>\n"
        f"  <td>{_e(step)}</td>\n"
        f'  <td class="text-nowrap worklist-planned">{_e(call.planned_text)}</td>\n'
        f"  <td>{_e(words['status'].get(call.status, call.status))}</td>\n"
        f"  <td>{_e(call.attempt_count)}</td>\n"
        f'  <td class="font-monospace">{_e(call.masked_phone)}</td>\n'
        f'  <td class="person-name">{_e(nurse)}</td>\n</tr>'
    )
    return SafeString(html)  # nosec B703 -- every value above went through _e (escaped) or is a literal of this module
