import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.conf import settings
from django.urls import reverse

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_login_page_speaks_chinese_to_a_chinese_browser(client, db):
    response = client.get(reverse("login"), headers={"accept-language": "zh-hans"})
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    assert "Log in" not in html


def test_language_switch_turns_the_worklist_into_chinese(client_for, nurse):
    client = client_for(nurse)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("calls:worklist")})
    assert response.status_code == 302
    html = client.get(reverse("calls:worklist")).content.decode()
    assert "随访电话工作列表" in html
    assert "退出登录" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Call worklist" in client.get(reverse("calls:worklist")).content.decode()


def test_chinese_catalogue_has_every_string_translated():
    catalogue = polib.pofile(str(PO_FILE))
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == []


def test_chinese_catalogue_covers_every_string_in_the_code(tmp_path):
    """Extract the strings afresh (GNU gettext, as `make messages` does) and
    compare with the committed catalogue: a new UI string without a Chinese
    translation fails here."""
    assert shutil.which("xgettext"), "GNU gettext (xgettext) is needed to check the catalogue: apt-get install gettext"
    copy = tmp_path / "src"
    base = Path(settings.BASE_DIR)
    ignore = shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "__pycache__", "*.mo", "static", "tests")
    shutil.copytree(base, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-obsolete", "--ignore", "tests/*"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "VAR_DIR": str(tmp_path / "var")},
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO_FILE)) if e.translated()}
    assert sorted(fresh - committed) == []


def test_dates_read_year_month_day_in_both_languages():
    import datetime as dt

    from django.utils import formats, translation

    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert formats.date_format(dt.date(2026, 11, 23), "SHORT_DATE_FORMAT") == "2026-11-23"
            assert formats.date_format(dt.date(2026, 11, 23)) == "2026-11-23"
