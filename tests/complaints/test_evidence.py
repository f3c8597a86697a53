import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.forms import EvidenceForm
from complaints.models import ComplaintEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    settings.EVIDENCE_MAX_BYTES = 1024


def upload(client, complaint, name: str, content: bytes, content_type: str = "application/octet-stream"):
    return client.post(
        reverse("complaints:action", args=[complaint.pk, "evidence"]),
        {"evidence-file": SimpleUploadedFile(name, content, content_type=content_type), "evidence-text": "Bill"},
    )


def evidence_errors(response) -> list[str]:
    return response.context["forms"]["evidence"].errors["file"]


def test_nurse_attaches_a_scanned_bill_and_downloads_it_as_an_attachment(client_for, nurse, make_complaint):
    complaint = make_complaint()
    client = client_for(nurse)
    assert upload(client, complaint, "bill.pdf", PDF, "application/pdf").status_code == 302
    event = ComplaintEvent.objects.get(kind="evidence")
    assert (event.file_name, event.file_size, event.by) == ("bill.pdf", len(PDF), nurse)
    response = client.get(reverse("complaints:evidence", args=[complaint.pk, event.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bill.pdf"'
    assert b"".join(response.streaming_content) == PDF


def test_a_file_over_the_size_limit_is_refused(client_for, nurse, make_complaint):
    response = upload(client_for(nurse), make_complaint(), "photo.png", PNG + b"\x00" * 1024, "image/png")
    assert response.status_code == 400
    assert evidence_errors(response) == [
        "The file is larger than 1.0\xa0KB, the largest accepted. Nothing was saved: choose a smaller file."
    ]
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 0


def test_the_form_refuses_a_file_over_the_limit_that_reached_it_another_way():
    """The upload handler stops such a file in a request; the form checks the size too."""
    form = EvidenceForm({}, {"file": SimpleUploadedFile("photo.png", PNG + b"\x00" * 1024)}, prefix=None)
    assert form.errors == {"file": ["The file is 1.1\xa0KB; files up to 1.0\xa0KB are accepted."]}


def test_a_file_of_a_type_not_accepted_is_refused(client_for, nurse, make_complaint):
    response = upload(client_for(nurse), make_complaint(), "tool.exe", b"MZ\x90\x00")
    assert evidence_errors(response) == [
        "Files of type “exe” are not accepted. Accepted: docx, jpeg, jpg, m4a, mp3, pdf, png, txt, wav, xlsx."
    ]


def test_a_program_renamed_to_pdf_is_refused(client_for, nurse, make_complaint):
    program = b"MZ\x90\x00\x03\x00\x00\x00"
    response = upload(client_for(nurse), make_complaint(), "bill.pdf", program, "application/pdf")
    assert evidence_errors(response) == ["The file is named .pdf but its content is not a pdf file."]


def test_an_image_renamed_to_pdf_is_refused(client_for, nurse, make_complaint):
    response = upload(client_for(nurse), make_complaint(), "scan.pdf", PNG, "application/pdf")
    assert evidence_errors(response) == ["The file is named .pdf but its content is not a pdf file."]


def test_a_call_recording_and_a_text_statement_are_accepted(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16
    assert upload(client, complaint, "call.wav", wav, "audio/wav").status_code == 302
    statement = "护士陈述：当时病人很多。".encode()
    assert upload(client, complaint, "statement.txt", statement, "text/plain").status_code == 302
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 2


@pytest.fixture
def evidence(client_for, officer, make_complaint):
    complaint = make_complaint()
    upload(client_for(officer), complaint, "photo.png", PNG, "image/png")
    return ComplaintEvent.objects.get(kind="evidence")


def test_evidence_of_another_department_is_not_found_for_a_nurse(client_for, nurse, evidence, other_ward):
    other_nurse_complaint = evidence.complaint
    other_nurse_complaint.departments.set([other_ward])
    url = reverse("complaints:evidence", args=[evidence.complaint_id, evidence.pk])
    assert client_for(nurse).get(url).status_code == 404


def test_evidence_is_refused_to_users_without_a_complaint_role(client_for, no_role_user, evidence):
    url = reverse("complaints:evidence", args=[evidence.complaint_id, evidence.pk])
    assert client_for(no_role_user).get(url).status_code == 403


def test_a_note_event_is_no_download(client_for, officer, evidence):
    note = ComplaintEvent.objects.get(kind="created")
    assert client_for(officer).get(reverse("complaints:evidence", args=[note.complaint_id, note.pk])).status_code == 404
