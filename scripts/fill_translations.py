#!/usr/bin/env python
"""Fill Simplified Chinese translations into the catalogue.

Usage: run `make messages` first, then
    .venv/bin/python scripts/fill_translations.py translations.json
where the JSON maps each English msgid to its Chinese msgstr. Prints the
msgids still untranslated; `manage.py compile_translations` (or `make
messages` again) compiles the result.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main(path: str) -> None:
    catalogue = polib.pofile(str(PO))
    translations = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry in catalogue:
        if entry.msgid in translations:
            value = translations[entry.msgid]
            if entry.msgid_plural:
                # Chinese has one plural form: the same text serves every count.
                entry.msgstr_plural = {0: value if isinstance(value, str) else value["0"]}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            # gettext's guess came from this earlier msgid; the translation is settled now.
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    catalogue.metadata["Language"] = "zh_Hans"
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.save()
    # Lay the file out as `make messages` (gettext, --no-wrap) does, so the
    # next makemessages run changes only what really changed.
    if shutil.which("msgcat"):
        subprocess.run(["msgcat", "--no-wrap", "-o", str(PO), str(PO)], check=True)  # noqa: S603, S607
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    print(json.dumps(missing, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
