"""The zh-hans catalogue passes GNU msgfmt's checks: every translation keeps
the placeholders of its English text (a translation without %(count)d shows
the wrong sentence, one with a placeholder the code does not pass crashes)."""

import re
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w*)\}")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_every_translation_keeps_the_placeholders_of_its_english_text():
    wrong = []
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or "no-python-format" in entry.flags:
            continue
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        wanted = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
        for text in translations:
            if text and _placeholders(text) != wanted:
                wrong.append(entry.msgid)
    assert wrong == []
