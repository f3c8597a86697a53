"""Phone numbers: validated with ``phonenumbers`` and stored in E.164 form
(+8613812345678). Numbers written without a country code are read in the
region of ``settings.PHONE_DEFAULT_REGION`` (CN by default)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` in E.164 form; an empty value stays empty.

    Raises ``ValidationError`` with a plain message when the number cannot be
    a real phone number.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="invalid_phone", params={"value": text}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number: check the digits and the area code."),
            code="invalid_phone",
            params={"value": text},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(stored: str) -> str:
    """A stored E.164 number grouped the way people read it aloud and dial
    it from paper ("+8613812345678" -> "+86 138 1234 5678"); anything that
    does not parse comes back as it is."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, None if stored.startswith("+") else settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
