"""Limits on evidence files: size, extension, and content that matches the
extension (a renamed executable is refused).

The size is refused first while the file arrives (followup/uploads.py, the
view's ``@upload_limit("EVIDENCE_MAX_BYTES")``); the check here is the same
limit for a file that reaches a form some other way.

Word and Excel files (.docx, .xlsx) are zip packages, and a zip can carry
anything. One is accepted only when it is a real Office Open XML package of
its kind and holds nothing that runs:

- it opens as a zip, every part unpacks to the size and checksum the package
  states, and all parts together unpack to at most UNPACKED_FACTOR times the
  upload limit in at most MAX_PARTS parts (a zip bomb says it unpacks to
  gigabytes; the total is checked before anything is unpacked);
- ``[Content_Types].xml`` names a main part of the right kind (a Word
  document, an Excel workbook: not a macro-enabled one, not a template) and
  that part is in the package;
- no part is a program or a script by its extension (.exe, .dll, .js, .vbs,
  .ps1, .jar...), a macro-enabled Office file, a VBA macro project
  (``vbaProject.bin``: a .docx or .xlsx has none, so one inside is a renamed
  .docm or .xlsm), an ActiveX control, or an embedded OLE object
  (``oleObject1.bin``): how Office wraps a program or an old-style embedded
  file that opens with a double click, and how the Equation Editor exploits
  arrived. Charts and embedded workbooks saved as .xlsx parts are accepted.
  Whoever needs to attach such a document saves it as PDF.

Nothing is unpacked to disk, and nested packages are not opened in turn.
"""

import re
import zipfile
import zlib
from pathlib import PurePath, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


def _zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def _mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is fine
        return exc.start >= len(head) - 3
    return True


# extension -> check of the first bytes
SIGNATURES = {
    "pdf": lambda h: h.startswith(b"%PDF-"),
    "jpg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "docx": _zip,
    "xlsx": _zip,
    "txt": _text,
    "mp3": _mp3,
    "m4a": lambda h: h[4:8] == b"ftyp",
    "wav": lambda h: h.startswith(b"RIFF") and h[8:12] == b"WAVE",
}


# The main part's content type in [Content_Types].xml, per extension.
OOXML_MAIN_TYPES = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# Parts refused by their extension: programs, scripts, shortcuts, and Office
# files that may carry macros.
_EXECUTABLES = (
    "apk app bat cmd com cpl dll docm dotm exe hta jar js jse lnk msc msi msp pif potm ppam pptm ps1 psm1 "
    "reg scr sh sldm vb vbe vbs wsc wsf wsh xlam xlsb xlsm xltm"
)
EXECUTABLE_EXTENSIONS = frozenset(_EXECUTABLES.split())
# Parts refused by their name: VBA macros, ActiveX controls, embedded OLE objects.
CODE_PARTS = re.compile(r"(^|/)(vbaProject\.bin|activeX[^/]*\.bin|oleObject[^/]*\.bin)$", re.IGNORECASE)
UNPACKED_FACTOR = 20
MAX_PARTS = 10_000
_OVERRIDE = re.compile(rb"<Override\b[^>]*>")
_ATTRIBUTE = re.compile(rb"""\b(PartName|ContentType)\s*=\s*["']([^"']*)["']""")
# What a damaged or unreadable zip raises while its parts are read.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # a compression method zipfile does not know
    RuntimeError,  # an encrypted part
    OSError,
)


def _not_a(extension: str) -> ValidationError:
    return ValidationError(_("The file is named .%(ext)s but its content is not a %(ext)s file.") % {"ext": extension})


def _main_parts(content_types: bytes, main_type: bytes) -> set[str]:
    """The part names [Content_Types].xml gives the main content type. Read
    with a pattern, not an XML parser: the file is small, nothing in it is
    expanded, and an attribute is all that is needed."""
    parts = set()
    for element in _OVERRIDE.findall(content_types):
        attributes = dict(_ATTRIBUTE.findall(element))
        if attributes.get(b"ContentType") == main_type and b"PartName" in attributes:
            parts.add(attributes[b"PartName"].decode("utf-8", "replace").lstrip("/"))
    return parts


def _code_part(name: str) -> bool:
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return suffix in EXECUTABLE_EXTENSIONS or CODE_PARTS.search(name) is not None


def validate_office_package(upload, extension: str) -> None:
    """Raise ValidationError unless ``upload`` is a real .docx or .xlsx package
    with nothing in it that runs (see the module's docstring)."""
    unpacked_limit = UNPACKED_FACTOR * settings.EVIDENCE_MAX_BYTES
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            parts = package.infolist()
            if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > unpacked_limit:
                raise ValidationError(
                    _("The file would unpack to more than %(limit)s. A document that large is not accepted.")
                    % {"limit": filesizeformat(unpacked_limit)}
                )
            names = {part.filename for part in parts}
            code = sorted(name for name in names if _code_part(name))
            if code:
                raise ValidationError(
                    _(
                        "The file contains a program, macros or an embedded object (%(part)s), which are not "
                        "accepted. Save the document as PDF and attach that."
                    )
                    % {"part": code[0]}
                )
            if "[Content_Types].xml" not in names:
                raise _not_a(extension)
            main = _main_parts(package.read("[Content_Types].xml"), OOXML_MAIN_TYPES[extension])
            if not main & names:
                raise _not_a(extension)
            # Unpack every part (within the limit checked above) to check the
            # sizes and checksums the package states.
            if package.testzip() is not None:
                raise _not_a(extension)
    except _ZIP_ERRORS:
        raise _not_a(extension) from None
    finally:
        upload.seek(0)


def validate_evidence(upload) -> None:
    """Raise ValidationError saying what is wrong with an uploaded file."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s; files up to %(limit)s are accepted.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    extension = PurePath(upload.name).suffix.lower().lstrip(".")
    check = SIGNATURES.get(extension)
    if check is None:
        raise ValidationError(
            _("Files of type “%(ext)s” are not accepted. Accepted: %(accepted)s.")
            % {"ext": extension or "?", "accepted": ", ".join(sorted(SIGNATURES))}
        )
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if not check(head):
        raise _not_a(extension)
    if extension in OOXML_MAIN_TYPES:
        validate_office_package(upload, extension)
