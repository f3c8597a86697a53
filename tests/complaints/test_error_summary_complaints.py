"""The complaint forms show a refusal at the top too (issue 17, item 3;
docs/forms.md): the new-complaint form and each action on a complaint."""

import re

import pytest
from django.urls import reverse

from complaints.models import Complaint

pytestmark = pytest.mark.django_db

S = Complaint.Status


def summary_items(html: str) -> tuple[str, list[tuple[str, str]]]:
    body = re.search(r'<div class="alert alert-danger error-summary"[^>]*>(.*?)</div>', html, re.S).group(1)
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", body, re.S).group(1).strip()
    items = [
        (target, re.sub(r"<[^>]+>", "", text).strip())
        for target, text in re.findall(r'<li>(?:<a [^>]*href="#([^"]+)"[^>]*>)?(.*?)</li>', body, re.S)
    ]
    return heading, items


def test_a_refused_transition_is_summarised_above_the_forms(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)
    client.cookies.load({"django_language": "zh-hans"})

    response = client.post(reverse("complaints:action", args=[complaint.pk, "transition"]), {"transition-to": S.CLOSED})

    assert response.status_code == 400
    heading, items = summary_items(response.content.decode())
    assert heading == "未保存任何内容。请更正以下 1 处："
    assert [target for target, _text in items] == [""]


def test_a_refused_new_complaint_links_each_missing_field(client_for, officer):
    response = client_for(officer).post(reverse("complaints:create"), {"description": ""})

    html = response.content.decode()
    heading, items = summary_items(html)
    assert heading.startswith("Nothing was saved. Please correct these")
    assert all(f'id="{target}"' in html for target, _text in items if target)
    # In the order of the page's layout (channel first), not of the form's fields (category first).
    assert [target for target, _text in items] == [
        "id_channel",
        "id_received_at",
        "id_complainant_name",
        "id_complainant_relation",
        "id_category",
        "id_severity",
        "id_validity",
        "id_departments",
        "id_description",
    ]
    assert html.index("error-summary") < html.index('class="complaint-form"')
