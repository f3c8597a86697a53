"""An evidence file over the limit is refused while it arrives: from its
Content-Length before a byte of the file is read, or, counting the bytes as
they come, as soon as the file passes the limit. The form says so, keeps the
caption typed before the file, and nothing is stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import reverse

from complaints.models import ComplaintEvent

LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
TOO_LARGE = "The file is larger than 64.0\xa0KB, the largest accepted. Nothing was saved: choose a smaller file."


class CountingPayload(FakePayload):
    """The request body, counting how much of it the server reads."""

    def __init__(self, content: bytes):
        super().__init__(content)
        self.size = len(content)
        self.bytes_read = 0

    def read(self, size=-1, /):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size=-1, /):
        data = super().readline(size)
        self.bytes_read += len(data)
        return data


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.EVIDENCE_MAX_BYTES = LIMIT


def send(client, url: str, fields: dict) -> tuple:
    """POST ``fields`` as a browser does (multipart, in this order); return
    the response and the body as the server saw it."""
    body = encode_multipart(BOUNDARY, fields)
    payload = CountingPayload(body)
    response = client.generic("POST", url, body, content_type=MULTIPART_CONTENT, **{"wsgi.input": payload})
    return response, payload


def evidence_post(complaint, size: int) -> tuple[str, dict]:
    url = reverse("complaints:action", args=[complaint.pk, "evidence"])
    photo = SimpleUploadedFile("ward.png", PNG + b"\x00" * (size - len(PNG)), content_type="image/png")
    return url, {"evidence-text": "病房走廊的照片：呼叫铃无人应答", "evidence-file": photo}


def test_a_file_of_exactly_the_limit_is_stored(client_for, officer, make_complaint):
    url, fields = evidence_post(make_complaint(), LIMIT)
    response, _payload = send(client_for(officer), url, fields)
    assert response.status_code == 302
    assert ComplaintEvent.objects.get(kind="evidence").file_size == LIMIT


def test_a_body_larger_than_any_accepted_form_is_refused_before_the_file_is_read(
    client_for, officer, make_complaint, tmp_path
):
    url, fields = evidence_post(make_complaint(), 4 * 1024 * 1024)
    response, payload = send(client_for(officer), url, fields)
    assert response.status_code == 400
    form = response.context["forms"]["evidence"]
    assert form.errors == {"file": [TOO_LARGE]}
    assert form["text"].value() == "病房走廊的照片：呼叫铃无人应答"
    assert payload.bytes_read == 64 * 1024  # one chunk: the caption and the file's first bytes, of 4 MB
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 0
    assert not (tmp_path / "private").exists()


def test_a_file_over_the_limit_in_a_body_of_plausible_size_is_cut_off_as_it_streams(
    client_for, officer, make_complaint, tmp_path
):
    url, fields = evidence_post(make_complaint(), 1024 * 1024)
    response, payload = send(client_for(officer), url, fields)
    assert payload.size > 1024 * 1024
    assert response.status_code == 400
    assert response.context["forms"]["evidence"].errors == {"file": [TOO_LARGE]}
    assert payload.bytes_read == 128 * 1024  # two chunks, then the upload stops
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 0
    assert not (tmp_path / "private").exists()


def test_the_refusal_is_in_chinese_for_a_chinese_browser(client_for, officer, make_complaint):
    client = client_for(officer)
    client.cookies.load({"django_language": "zh-hans"})
    url, fields = evidence_post(make_complaint(), 1024 * 1024)
    response = client.post(url, fields, headers={"accept-language": "zh-hans"})
    assert response.context["forms"]["evidence"].errors["file"] == [
        "文件超过了 64.0\xa0KB 的上限，未保存任何内容。请选择更小的文件。"
    ]


def test_a_page_that_takes_no_files_stops_reading_at_the_first_file(client, db):
    """A stranger's multipart body to the log-in page never reaches the disk."""
    photo = SimpleUploadedFile("big.bin", b"\x00" * (4 * 1024 * 1024))
    response, payload = send(client, reverse("login"), {"username": "admin", "password": "x", "file": photo})
    assert response.status_code == 200
    assert payload.bytes_read == 64 * 1024


def test_a_caption_too_large_for_any_form_gets_the_readable_413_page(client_for, officer, make_complaint):
    url, fields = evidence_post(make_complaint(), 1024)
    fields["evidence-text"] = "患" * (1024 * 1024)  # 3 MB, over DATA_UPLOAD_MAX_MEMORY_SIZE
    response, _payload = send(client_for(officer), url, fields)
    assert response.status_code == 413
    assert "What you sent was too large to save: a text was too long or a file too big." in response.content.decode()
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 0
