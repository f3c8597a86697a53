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


def test_chinese_mobile_numbers_read_without_parsing_are_read_as_parsing_reads_them():
    """normalise_phone builds the number of a plain 11-digit mobile itself:
    the same verdict and the same E.164 form as phonenumbers.parse, for
    every three-digit prefix that path takes and random subscriber digits
    (valid and invalid numbers alike)."""
    import random

    import phonenumbers

    from calls.phones import _CN_MOBILE

    rng = random.Random(20261130)
    taken = 0
    for prefix in range(100, 200):
        for _sample in range(40):
            text = f"{prefix}{rng.randrange(10**8):08d}"
            if not _CN_MOBILE.fullmatch(text):
                continue
            taken += 1
            parsed = phonenumbers.parse(text, "CN")
            expected = (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if phonenumbers.is_valid_number(parsed)
                else None
            )
            try:
                got = normalise_phone(text, region="CN")
            except ValidationError:
                got = None
            assert got == expected, text
    assert taken == 69 * 40  # every prefix from 130 to 199 but 179
