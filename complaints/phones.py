"""Phone numbers of complainants, stored in international (E.164) format."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalise_phone(raw: str) -> str:
    """E.164 form of ``raw`` ("" stays ""); numbers without a country code
    are read in settings.PHONE_DEFAULT_REGION."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number: check the digits.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number is not valid: check the digits and the area code."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
