"""A worklist row (calls/templatetags/worklist.py) as the nurse reads it:
its badges, cells and the head nurse's selection box, escaped whatever the
names hold, in English and in Chinese."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from calls.models import ClinicalAlert, FollowUpCall
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)">&\'王'


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, flags=re.S)


@pytest.fixture
def world(head_nurse, nurse):
    ward = ward_of(head_nurse, nurse)
    flagged = make_call(
        department=ward,
        nurse=nurse,
        due=TODAY - dt.timedelta(days=2),
        patient__name=HOSTILE,
        patient__phone="+8613812345678",
        callback_at=NOW - dt.timedelta(minutes=5),
        attempt_count=1,
    )
    earlier = make_call(
        department=ward, discharge=flagged.discharge, offset=3, due=TODAY - dt.timedelta(days=6), status="completed"
    )
    ClinicalAlert.objects.create(call=earlier, raised_at=NOW, due_at=NOW, reason="chest pain")
    plain = make_call(department=ward, due=TODAY, patient__name="Li Lei")
    return flagged, plain


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ("Red flag", "Callback due", "Overdue", "Patient page", "Select the call of", "day 7", "Scheduled")),
        ("zh-hans", ("危急", "到时回电", "已逾期", "患者主页", "的随访", "第 7 天", "已排期")),
    ],
)
def test_a_row_shows_its_badges_and_cells_escaped(client_for, head_nurse, nurse, world, language, texts):
    flagged, plain = world
    with time_machine.travel(NOW, tick=False), translation.override(language):
        html = client_for(head_nurse).get(reverse("calls:worklist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    first, second = _rows(html)
    assert f'href="/calls/{flagged.pk}/"' in first and f'href="/calls/{plain.pk}/"' in second
    assert first.startswith('<tr class="table-danger">') and second.startswith('<tr class="">')
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#x27;王" in first
    for text in texts:
        assert text in first, text
    assert f'name="calls" value="{flagged.pk}" id="select-{flagged.pk}">' in first
    assert "••••••••••5678" in first and "+8613812345678" not in html
    assert f'<td class="person-name">{nurse}</td>' in first
    assert '<td class="person-name">–</td>' in second  # nobody assigned
    assert "Callback" not in second and "table-warning" not in second


def test_a_nurse_has_no_selection_box(client_for, nurse, world):
    with time_machine.travel(NOW, tick=False):
        html = client_for(nurse).get(reverse("calls:worklist")).content.decode()

    assert _rows(html) and 'name="calls"' not in html


def test_an_overdue_call_without_a_flag_is_marked_as_overdue(client_for, nurse, head_nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse, due=TODAY - dt.timedelta(days=1))
    FollowUpCall.objects.filter(pk=call.pk).update(callback_at=NOW + dt.timedelta(hours=2))
    with time_machine.travel(NOW, tick=False):
        (row,) = _rows(client_for(nurse).get(reverse("calls:worklist") + "?tab=all").content.decode())

    assert row.startswith('<tr class="table-warning">')
    assert '<span class="badge text-bg-info ms-1 worklist-callback">Callback</span>' in row
