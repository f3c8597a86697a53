"""Word and Excel evidence must be what it claims: a real Office Open XML
package of its kind, with no program, macro or embedded object inside, that
does not unpack to far more than the upload limit (a zip bomb)."""

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.models import ComplaintEvent

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def content_types(main_part: str, main_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/>'
        "</Types>"
    ).encode()


RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    "<w:p><w:r><w:t>患者家属投诉：夜班护士未及时回应呼叫铃。</w:t></w:r></w:p></w:body></w:document>"
).encode()


def package(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_parts(**extra: bytes) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": content_types("word/document.xml", DOCX_MAIN),
        "_rels/.rels": RELS,
        "word/document.xml": DOCUMENT,
        **extra,
    }


def workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["日期", "费用"])
    book.active.append(["2026-11-02", 380])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    settings.EVIDENCE_MAX_BYTES = 256 * 1024  # so the package may unpack to 5 MB


def upload(client, complaint, name: str, content: bytes):
    return client.post(
        reverse("complaints:action", args=[complaint.pk, "evidence"]),
        {"evidence-file": SimpleUploadedFile(name, content), "evidence-text": "The complainant's letter"},
    )


def refused(response) -> list[str]:
    assert response.status_code == 400
    assert ComplaintEvent.objects.filter(kind="evidence").count() == 0
    return response.context["forms"]["evidence"].errors["file"]


def test_a_word_document_is_accepted(client_for, officer, make_complaint):
    content = package(docx_parts())
    assert upload(client_for(officer), make_complaint(), "letter.docx", content).status_code == 302
    assert ComplaintEvent.objects.get(kind="evidence").file_name == "letter.docx"


def test_a_workbook_saved_by_a_spreadsheet_program_is_accepted(client_for, officer, make_complaint):
    assert upload(client_for(officer), make_complaint(), "bill.xlsx", workbook()).status_code == 302


def test_a_word_document_with_a_chart_workbook_inside_is_accepted(client_for, officer, make_complaint):
    content = package(docx_parts(**{"word/embeddings/Microsoft_Excel_Worksheet.xlsx": workbook()}))
    assert upload(client_for(officer), make_complaint(), "letter.docx", content).status_code == 302


def test_a_plain_zip_named_docx_is_refused(client_for, officer, make_complaint):
    content = package({"letter.txt": "投诉信".encode()})
    response = upload(client_for(officer), make_complaint(), "letter.docx", content)
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


def test_a_workbook_named_docx_is_refused(client_for, officer, make_complaint):
    response = upload(client_for(officer), make_complaint(), "letter.docx", workbook())
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


def test_a_content_types_list_naming_a_missing_main_part_is_refused(client_for, officer, make_complaint):
    parts = docx_parts()
    del parts["word/document.xml"]
    response = upload(client_for(officer), make_complaint(), "letter.docx", package(parts))
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


def test_a_macro_enabled_workbook_renamed_xlsx_is_refused(client_for, officer, make_complaint):
    parts = {
        "[Content_Types].xml": content_types("xl/workbook.xml", XLSM_MAIN),
        "xl/workbook.xml": b"<workbook/>",
        "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
    }
    response = upload(client_for(officer), make_complaint(), "bill.xlsx", package(parts))
    assert refused(response) == [
        "The file contains a program, macros or an embedded object (xl/vbaProject.bin), which are not accepted. "
        "Save the document as PDF and attach that."
    ]


@pytest.mark.parametrize(
    "part",
    [
        "word/embeddings/setup.exe",
        "word/media/invoice.pdf.js",
        "word/embeddings/oleObject1.bin",
        "word/activeX/activeX1.bin",
        "word/embeddings/Report.XLSM",
        "customXml/../../tools/run.PS1",
        "word/vbaProject.bin",
    ],
)
def test_a_word_document_carrying_code_is_refused_naming_the_part(client_for, officer, make_complaint, part):
    content = package(docx_parts(**{part: b"MZ\x90\x00\x03\x00\x00\x00"}))
    response = upload(client_for(officer), make_complaint(), "letter.docx", content)
    assert refused(response) == [
        f"The file contains a program, macros or an embedded object ({part}), which are not accepted. "
        "Save the document as PDF and attach that."
    ]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client_for, officer, make_complaint):
    content = package(docx_parts(**{"word/media/image1.png": b"\x00" * (6 * 1024 * 1024)}))
    assert len(content) < 256 * 1024
    response = upload(client_for(officer), make_complaint(), "letter.docx", content)
    assert refused(response) == ["The file would unpack to more than 5.0\xa0MB. A document that large is not accepted."]


def test_a_part_that_does_not_unpack_to_what_the_package_states_is_refused(client_for, officer, make_complaint):
    content = package(docx_parts(), compression=zipfile.ZIP_STORED)
    content = content.replace("夜班护士".encode(), "白班护士".encode())  # its checksum no longer matches
    response = upload(client_for(officer), make_complaint(), "letter.docx", content)
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


def test_a_part_whose_compressed_data_is_damaged_is_refused(client_for, officer, make_complaint):
    content = bytearray(package(docx_parts()))
    header = content.index(b"PK\x03\x04", 1)  # the second part: _rels/.rels
    content[header + 30 + len("_rels/.rels") + 20] ^= 0xFF  # a byte of its compressed data
    response = upload(client_for(officer), make_complaint(), "letter.docx", bytes(content))
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


@pytest.mark.parametrize(
    "content",
    [
        package(docx_parts())[:300],  # cut short
        b"PK\x03\x04" + b"\xff" * 200,  # a zip signature and nothing of a zip
        b"PK\x03\x04" + bytes(range(256)) * 4,
    ],
)
def test_a_damaged_package_is_refused_without_a_server_error(client_for, officer, make_complaint, content):
    response = upload(client_for(officer), make_complaint(), "letter.docx", content)
    assert refused(response) == ["The file is named .docx but its content is not a docx file."]


def test_the_refusal_is_in_chinese_for_a_chinese_browser(client_for, officer, make_complaint):
    content = package(docx_parts(**{"word/embeddings/setup.exe": b"MZ"}))
    client = client_for(officer)
    response = client.post(
        reverse("complaints:action", args=[make_complaint().pk, "evidence"]),
        {"evidence-file": SimpleUploadedFile("letter.docx", content)},
        headers={"accept-language": "zh-hans"},
    )
    assert refused(response) == [
        "文件中含有程序、宏或嵌入对象（word/embeddings/setup.exe），不予接受。请将文档另存为 PDF 后上传。"
    ]
