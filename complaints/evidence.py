"""Limits on evidence files: size, extension, and content that matches the
extension (a renamed executable is refused)."""

from pathlib import PurePath

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
        raise ValidationError(
            _("The file is named .%(ext)s but its content is not a %(ext)s file.") % {"ext": extension}
        )
