"""Requests no form can produce (a NUL character, a body too large, too many
fields) get a readable page in the user's language, never a server error:
400 Bad Request, or 413 Content Too Large for a body over
DATA_UPLOAD_MAX_MEMORY_SIZE."""

import pytest
from django.urls import reverse

from complaints.models import Complaint
from followup.models import AuditEvent

NUL_PAGE = "invisible control character (NUL)"
TOO_LARGE_PAGE = "What you sent was too large to save"


def text(response) -> str:
    return response.content.decode()


def test_a_nul_in_the_query_string_of_the_discharge_list_answers_400(client_for, nurse):
    response = client_for(nurse).get(reverse("calls:discharge_list"), {"mrn": "\x00"})
    assert response.status_code == 400
    assert NUL_PAGE in text(response)
    assert "Back to my work" in text(response)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "query",
    [{"q": "张伟\x00"}, {"status\x00": "open"}, {"mrn": "12\x00'; DROP TABLE calls_patient; --"}],
)
def test_a_nul_anywhere_in_the_query_answers_400(client_for, nurse, query):
    response = client_for(nurse).get(reverse("calls:worklist"), query)
    assert (response.status_code, NUL_PAGE in text(response)) == (400, True)


def test_a_nul_in_an_admin_changelist_filter_answers_400(client_for, admin_user):
    client = client_for(admin_user)
    response = client.get(reverse("admin:complaints_complaint_changelist"), {"status__exact": "\x00"})
    assert response.status_code == 400
    assert NUL_PAGE in text(response)
    response = client.get(reverse("admin:complaints_complaint_changelist"), {"q": "x\x00y"})
    assert response.status_code == 400


def test_a_nul_in_the_path_answers_400(client_for, nurse):
    response = client_for(nurse).get("/calls/%00/")
    assert (response.status_code, NUL_PAGE in text(response)) == (400, True)


def test_a_nul_in_a_header_answers_400(client_for, nurse):
    response = client_for(nurse).get(reverse("calls:worklist"), headers={"user-agent": "Mozilla\x00evil"})
    assert response.status_code == 400


def test_a_nul_in_a_posted_form_field_answers_400_and_saves_nothing(client_for, officer):
    response = client_for(officer).post(
        reverse("complaints:create"), {"description": "The nurse\x00was rude", "complainant_name": "王女士"}
    )
    assert (response.status_code, NUL_PAGE in text(response)) == (400, True)
    assert Complaint.objects.count() == 0


def test_the_nul_page_is_in_chinese_for_a_chinese_browser(client_for, nurse):
    response = client_for(nurse).get(
        reverse("calls:discharge_list"), {"mrn": "\x00"}, headers={"accept-language": "zh-hans"}
    )
    assert response.status_code == 400
    assert "NUL" in text(response)
    assert "返回我的工作" in text(response)


def test_a_three_megabyte_post_answers_413_with_a_readable_page(client_for, officer, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    response = client_for(officer).post(
        reverse("complaints:create"), {"description": "患" * (1024 * 1024), "complainant_name": "王女士"}
    )
    assert response.status_code == 413
    assert TOO_LARGE_PAGE in text(response)
    assert Complaint.objects.count() == 0
    assert AuditEvent.objects.filter(action="change").count() == 0


def test_twenty_thousand_chinese_characters_fit_under_the_limit(settings):
    """What another part of the product allows in one field, URL-encoded, with room for several."""
    from urllib.parse import urlencode

    body = urlencode({f"field{n}": "患" * 20_000 for n in range(10)})
    assert len(body.encode()) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_too_many_fields_answers_400_with_a_readable_page(client_for, officer, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    data = {f"field{n}": "x" for n in range(60)}
    response = client_for(officer).post(reverse("complaints:create"), data)
    assert response.status_code == 400
    assert "too many fields" in text(response)


@pytest.mark.django_db
def test_a_nul_before_log_in_answers_400_too(client):
    response = client.post(reverse("login"), {"username": "admin\x00", "password": "x"})
    assert response.status_code == 400
    assert NUL_PAGE in text(response)
