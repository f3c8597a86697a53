import pytest
from django.core.exceptions import ValidationError

from calls.phones import normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 1234 5678", "+8613812345678"),
        ("021-64041990", "+862164041990"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("  ", ""),
        ("", ""),
    ],
)
def test_chinese_numbers_are_stored_in_international_form(raw, expected):
    assert normalise_phone(raw) == expected


def test_the_default_region_comes_from_settings(settings):
    settings.PHONE_DEFAULT_REGION = "DE"
    assert normalise_phone("030 1234567") == "+49301234567"
    assert normalise_phone("030 1234567", region="DE") == "+49301234567"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12345", "“12345” is not a valid phone number: check the digits and the area code."),
        ("call me", "“call me” is not a phone number."),
    ],
)
def test_impossible_numbers_are_refused_in_plain_words(raw, message):
    with pytest.raises(ValidationError) as excinfo:
        normalise_phone(raw)
    assert excinfo.value.messages == [message]
