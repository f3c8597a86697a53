"""Phone numbers: validated with ``phonenumbers`` and stored in E.164 form
(+8613812345678). Numbers written without a country code are read in the
region of ``settings.PHONE_DEFAULT_REGION`` (CN by default)."""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A Chinese mobile number as a ward's export writes it: eleven digits, the
# second neither 1 nor 2 and not 179 (those start with a carrier or dialling
# prefix phonenumbers strips). phonenumbers.parse(text, "CN") reads it as
# country 86 and the digits as they stand; built directly it costs a fifth
# (an import checks two numbers a row). tests/calls/test_phones.py compares
# the two over every such prefix.
_CN_MOBILE = re.compile(r"1(?:[3-689][0-9]|7[0-8])[0-9]{8}")


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` in E.164 form; an empty value stays empty.

    Raises ``ValidationError`` with a plain message when the number cannot be
    a real phone number.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    region = region or settings.PHONE_DEFAULT_REGION
    if region == "CN" and _CN_MOBILE.fullmatch(text):
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(text))
    else:
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
