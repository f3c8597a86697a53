import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.models import CallScript, Question, ScriptVersion, TalkingPoint
from calls.services.scripts import script_version_export, script_version_import
from tests.factories import CallScriptFactory, DepartmentFactory, QuestionFactory, publishable_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    script = CallScriptFactory(name="心内科出院随访", language="zh-hans", diagnosis_match="I25")
    script.departments.add(DepartmentFactory(code="CARD"), DepartmentFactory(code="ONCO"))
    version = publishable_version(script=script, status=ScriptVersion.Status.PUBLISHED, number=3, notes="三月修订")
    version.questions.update(order=0)
    version.talking_points.update(order=0)
    QuestionFactory(
        version=version,
        order=9,
        kind=Question.Kind.MULTIPLE,
        text="哪些症状？",
        help_text="逐个询问",
        choices=["胸痛", "气短", "无"],
        required=False,
        red_flag_answers=["胸痛", "气短"],
    )
    QuestionFactory(version=version, order=10, kind=Question.Kind.SCORE, red_flag_answers=[1, 2])
    QuestionFactory(
        version=version,
        order=11,
        kind=Question.Kind.NUMBER,
        text="收缩压",
        unit="mmHg",
        min_value=60,
        max_value="250.5",
        out_of_range="flag",
    )
    return version


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (CallScript, ScriptVersion, TalkingPoint, Question))


def without_number(data: dict) -> dict:
    return {**data, "version": {**data["version"], "number": None}}


def test_export_has_the_header_and_every_field(version):
    data = script_version_export(version=version)
    assert data["format"] == "followup-script"
    assert data["format_version"] == 2
    assert data["script"] == {
        "name": "心内科出院随访",
        "language": "zh-hans",
        "diagnosis_match": "I25",
        "departments": ["CARD", "ONCO"],
    }
    assert data["version"] == {"number": 3, "language": "zh-hans", "title": "", "notes": "三月修订"}
    assert next(q for q in data["questions"] if q["kind"] == "multiple") == {
        "order": 9,
        "text": "哪些症状？",
        "help_text": "逐个询问",
        "patient_text": "",
        "kind": "multiple",
        "choices": ["胸痛", "气短", "无"],
        "required": False,
        "red_flag_answers": ["胸痛", "气短"],
        "unit": "",
        "min_value": None,
        "max_value": None,
        "out_of_range": "refuse",
    }
    assert next(q for q in data["questions"] if q["kind"] == "number") == {
        "order": 11,
        "text": "收缩压",
        "help_text": "",
        "patient_text": "",
        "kind": "number",
        "choices": [],
        "required": True,
        "red_flag_answers": [],
        "unit": "mmHg",
        "min_value": 60,
        "max_value": 250.5,
        "out_of_range": "flag",
    }
    assert [p["phase"] for p in data["talking_points"]] == ["opening", "main", "closing"]


def test_export_then_import_then_export_is_lossless(version):
    exported = json.dumps(script_version_export(version=version), ensure_ascii=False)

    draft = script_version_import(data=exported.encode(), by=None)

    assert (draft.script, draft.number, draft.status) == (version.script, 4, ScriptVersion.Status.DRAFT)
    assert without_number(script_version_export(version=draft)) == without_number(json.loads(exported))


def test_import_into_a_new_hospital_creates_the_script_with_its_departments(version):
    data = script_version_export(version=version)
    data["script"]["name"] = "Shared cardiology script"

    draft = script_version_import(data=data, by=None)

    assert draft.script != version.script
    assert (draft.script.name, draft.script.language, draft.script.diagnosis_match, draft.number) == (
        "Shared cardiology script",
        "zh-hans",
        "I25",
        1,
    )
    assert sorted(draft.script.departments.values_list("code", flat=True)) == ["CARD", "ONCO"]
    assert without_number(script_version_export(version=draft)) == without_number(data)


def test_a_translation_joins_the_script_of_the_same_name_whatever_its_main_language(version):
    data = script_version_export(version=version)
    data["version"].update(language="en", title="Cardiology discharge follow-up")
    data["questions"][0]["text"] = "Any chest pain at rest?"

    draft = script_version_import(data=data, by=None)

    assert (draft.script, draft.number, draft.language, draft.title) == (
        version.script,
        4,
        "en",
        "Cardiology discharge follow-up",
    )
    assert draft.display_name == "Cardiology discharge follow-up"
    assert CallScript.objects.count() == 1


def test_a_version_1_file_is_read_in_the_script_language_with_numbers_unbounded():
    """A file exported before versions had their own language (format 1)."""
    DepartmentFactory(code="CARD")
    old = {
        "format": "followup-script",
        "format_version": 1,
        "script": {"name": "General", "language": "en", "diagnosis_match": "", "departments": ["CARD"]},
        "version": {"number": 7, "notes": "Old export"},
        "talking_points": [{"phase": "opening", "order": 1, "text": "Hello", "guidance": ""}],
        "questions": [
            {
                "order": 1,
                "text": "Fever?",
                "help_text": "",
                "kind": "yes_no",
                "choices": [],
                "required": True,
                "red_flag_answers": ["yes"],
            },
            {
                "order": 2,
                "text": "Weight, kg",
                "help_text": "",
                "kind": "number",
                "choices": [],
                "required": False,
                "red_flag_answers": [],
            },
        ],
    }
    chinese = CallScriptFactory(name="General", language="zh-hans")
    english = CallScriptFactory(name="General", language="en")

    draft = script_version_import(data=json.dumps(old), by=None)

    assert (draft.script, draft.language, draft.title, draft.notes) == (english, "en", "", "Old export")
    assert chinese.versions.count() == 0
    assert list(draft.questions.order_by("order").values_list("unit", "min_value", "max_value", "out_of_range")) == [
        ("", None, None, "refuse"),
        ("", None, None, "refuse"),
    ]
    assert script_version_export(version=draft)["version"] == {
        "number": 1,
        "language": "en",
        "title": "",
        "notes": "Old export",
    }


def test_import_into_a_given_script(version):
    other = CallScriptFactory(name="Another")
    draft = script_version_import(data=script_version_export(version=version), by=None, script=other)
    assert (draft.script, draft.number) == (other, 1)


def broken(version, change) -> dict:
    data = script_version_export(version=version)
    change(data)
    return data


BAD_FILES = {
    "bad json": (
        lambda v: b'{"format": "followup-script",',
        ["The file is not valid JSON (line 1, column 30: Expecting property name enclosed in double quotes)."],
    ),
    "not an object": (lambda v: b"[1, 2]", ["The file must hold one JSON object."]),
    "wrong format": (
        lambda v: broken(v, lambda d: d.update(format="something-else")),
        ["This is not a follow-up script file (“format” must be “followup-script”)."],
    ),
    "newer format version": (
        lambda v: broken(v, lambda d: d.update(format_version=3)),
        ["Unsupported format version 3; this system reads versions 1, 2."],
    ),
    "format version true": (
        lambda v: broken(v, lambda d: d.update(format_version=True)),
        ["Unsupported format version True; this system reads versions 1, 2."],
    ),
    "unknown version language": (
        lambda v: broken(v, lambda d: d["version"].update(language="fr")),
        ["version: unknown language “fr” (use en, zh-hans)."],
    ),
    "missing version language": (
        lambda v: broken(v, lambda d: d["version"].pop("language")),
        ["version: the field “language” is missing."],
    ),
    "title not a text": (
        lambda v: broken(v, lambda d: d["version"].update(title=["x"])),
        ["version: “title” must be a text."],
    ),
    "title too long": (
        lambda v: broken(v, lambda d: d["version"].update(title="长" * 151)),
        ["version: title: Ensure this value has at most 150 characters (it has 151)."],
    ),
    "version 1 without a script language": (
        lambda v: broken(v, lambda d: (d.update(format_version=1), d["script"].pop("language"))),
        ["script: the field “language” is missing."],
    ),
    "unknown phase": (
        lambda v: broken(v, lambda d: d["talking_points"][1].update(phase="middle")),
        ["talking_points[2]: unknown phase “middle” (use preparation, opening, main, closing)."],
    ),
    "unknown kind": (
        lambda v: broken(v, lambda d: d["questions"][0].update(kind="essay")),
        ["questions[1]: unknown kind “essay” (use yes_no, single, multiple, score, number, text)."],
    ),
    "missing fields": (
        lambda v: broken(v, lambda d: (d["questions"][0].pop("text"), d["talking_points"][0].pop("phase"))),
        [
            "talking_points[1]: the field “phase” is missing.",
            "questions[1]: the field “text” is missing.",
        ],
    ),
    "missing script name": (
        lambda v: broken(v, lambda d: d["script"].pop("name")),
        ["script: the field “name” is missing."],
    ),
    "wrong types": (
        lambda v: broken(v, lambda d: d["questions"][0].update(order="first", required="yes")),
        ["questions[1]: “order” must be a whole number.", "questions[1]: “required” must be a true or false."],
    ),
    "unknown range policy": (
        lambda v: broken(v, lambda d: d["questions"][-1].update(out_of_range="ignore")),
        ["questions[4]: unknown out_of_range “ignore” (use refuse, flag)."],
    ),
    "range on a yes/no question": (
        lambda v: broken(v, lambda d: d["questions"][0].update(unit="kg", min_value=1)),
        ["questions[1]: only number questions have a unit and an allowed range."],
    ),
    "range upside down": (
        lambda v: broken(v, lambda d: d["questions"][-1].update(min_value=300)),
        ["questions[4]: “min_value” is above “max_value”."],
    ),
    "range not a number": (
        lambda v: broken(v, lambda d: d["questions"][-1].update(min_value="60", max_value=True)),
        [
            "questions[4]: “min_value” must be a number or null.",
            "questions[4]: “max_value” must be a number or null.",
        ],
    ),
    "range too precise": (
        lambda v: broken(v, lambda d: d["questions"][-1].update(min_value=0.0001)),
        ["questions[4]: min_value: Ensure that there are no more than 3 decimal places."],
    ),
    "range not finite": (
        lambda v: broken(v, lambda d: d["questions"][-1].update(max_value=float("inf"))),
        ["questions[4]: max_value: “Infinity” value must be a decimal number."],
    ),
    "unknown department": (
        lambda v: broken(v, lambda d: d["script"].update(departments=["CARD", "XXXX"])),
        ["script: unknown department codes XXXX."],
    ),
    "too long": (
        lambda v: broken(v, lambda d: d["questions"][0].update(help_text="x" * 300)),
        ["questions[1]: help_text: Ensure this value has at most 255 characters (it has 300)."],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_the_reason_and_changes_nothing(version, case):
    make, reasons = BAD_FILES[case]
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        script_version_import(data=make(version), by=None)
    assert excinfo.value.messages == reasons
    assert counts() == before


# --- commands ----------------------------------------------------------------------------


def test_export_command_writes_the_file_and_import_command_prints_the_new_draft(version, tmp_path, capsys):
    path = tmp_path / "script.json"
    call_command("export_script", str(version.pk), "-o", str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == script_version_export(version=version)

    call_command("import_script", str(path))

    draft = ScriptVersion.objects.get(script=version.script, number=4)
    assert capsys.readouterr().out == f"{draft.pk}\n"
    assert draft.status == ScriptVersion.Status.DRAFT


def test_export_command_prints_to_standard_output(version, capsys):
    call_command("export_script", str(version.pk))
    assert json.loads(capsys.readouterr().out) == script_version_export(version=version)


def test_export_command_refuses_an_unknown_version(db):
    with pytest.raises(CommandError) as excinfo:
        call_command("export_script", "999999")
    assert str(excinfo.value) == "No script version with id 999999."


def test_import_command_refuses_a_bad_file_with_the_reason_and_a_non_zero_exit(version, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken(version, lambda d: d["script"].update(departments=["NOPE"]))))
    before = counts()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_script", str(path))

    # manage.py prints "CommandError: <message>" on stderr and exits with this code
    assert excinfo.value.returncode == 1
    assert str(excinfo.value) == f"{path} was not imported:\n  script: unknown department codes NOPE."
    assert counts() == before


def test_import_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as excinfo:
        call_command("import_script", str(tmp_path / "nothing.json"))
    assert str(excinfo.value) == f"Cannot read {tmp_path / 'nothing.json'}: No such file or directory."


def test_manage_py_import_script_exits_non_zero_on_a_bad_file(tmp_path):
    """The real command line: no database is touched before the file is read."""
    missing = tmp_path / "missing.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "import_script", str(missing)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == f"CommandError: Cannot read {missing}: No such file or directory.\n"
