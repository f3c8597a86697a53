"""Call scripts: publishing, duplicating, locking, JSON export and import.

A version is a draft until published. Once published, or once any call used
it, it never changes again (``script_version_is_locked``): the admin
duplicates it into a new draft instead. Each version is in one language;
publishing a draft retires the version of the same script and the same
language that was published before, so a script has at most one published
version per language (docs/scripts.md).

The JSON exchange format (hospitals share scripts with it), version 2::

    {
      "format": "followup-script",
      "format_version": 2,
      "script": {"name": ..., "language": "zh-hans" | "en" (the main language),
                 "diagnosis_match": ..., "departments": ["CARD", ...]},
      "version": {"number": 3, "language": "zh-hans" | "en", "title": ..., "notes": ...},
      "talking_points": [{"phase": "opening", "order": 1, "text": ..., "guidance": ...}, ...],
      "questions": [{"order": 1, "text": ..., "help_text": ..., "kind": "number",
                     "choices": [...], "required": true, "red_flag_answers": [...],
                     "unit": "mmHg", "min_value": 60, "max_value": 250,
                     "out_of_range": "refuse" | "flag"}, ...]
    }

Version 1 files (no "language" or "title" in "version", no unit or range on
questions) are still read: the version is in the script's language. Importing always makes a new draft: of
the given script, else of the script with the same name (the one whose main
language is the version's language if there are several; created if
missing, with the departments of the file). The version number in the file
is informative only.
"""

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import CallScript, Department, FollowUpCall, Question, ScriptVersion, TalkingPoint
from followup.audit import actor_of, audit_change
from followup.models import AuditEvent

FORMAT_NAME = "followup-script"
FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)
CHOICE_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)

POINT_FIELDS = ("phase", "order", "text", "guidance")
QUESTION_FIELDS = (
    "order",
    "text",
    "help_text",
    "patient_text",
    "kind",
    "choices",
    "required",
    "red_flag_answers",
    "unit",
    "min_value",
    "max_value",
    "out_of_range",
)
RANGE_FIELDS = ("unit", "min_value", "max_value")


def script_version_is_locked(version: ScriptVersion) -> bool:
    """True once the version was published (or retired) or any call used it."""
    if version.pk is None:
        return False
    if version.status != ScriptVersion.Status.DRAFT:
        return True
    return FollowUpCall.objects.filter(script_version=version).exists()


def script_version_ensure_editable(version: ScriptVersion) -> None:
    if script_version_is_locked(version):
        raise ValidationError(
            _("Version %(number)s is locked because it was published or used by a call: duplicate it into a new draft.")
            % {"number": version.number}
        )


def script_version_next_number(script: CallScript) -> int:
    return (ScriptVersion.objects.filter(script=script).aggregate(m=Max("number"))["m"] or 0) + 1


def script_version_publish_problems(version: ScriptVersion) -> list[str]:
    """Every reason the version cannot be published yet (empty when it can)."""
    problems = []
    if version.status != ScriptVersion.Status.DRAFT:
        problems.append(
            _("Only a draft can be published; this version is %(status)s.")
            % {"status": version.get_status_display().lower()}
        )
    phases = set(version.talking_points.values_list("phase", flat=True))
    if TalkingPoint.Phase.OPENING not in phases:
        problems.append(_("Add at least one opening talking point."))
    if TalkingPoint.Phase.CLOSING not in phases:
        problems.append(_("Add at least one closing talking point."))
    questions = list(version.questions.order_by("order", "pk"))
    if not questions:
        problems.append(_("Add at least one question."))
    for question in questions:
        if question.kind in CHOICE_KINDS and len(question.choices or []) < 2:
            problems.append(
                _("The choice question “%(question)s” needs at least two choices.") % {"question": question.text}
            )
    return problems


@transaction.atomic
def script_version_publish(*, version: ScriptVersion, by) -> ScriptVersion:
    """Publish a draft, retiring the script's previously published version in
    the same language. Refused with a ValidationError listing every reason."""
    # Lock the script first: two drafts of one script published at once must
    # still leave a single published version.
    CallScript.objects.select_for_update().filter(pk=version.script_id).first()
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    problems = script_version_publish_problems(version)
    if problems:
        raise ValidationError(problems)
    ScriptVersion.objects.filter(
        script=version.script, language=version.language, status=ScriptVersion.Status.PUBLISHED
    ).exclude(pk=version.pk).update(status=ScriptVersion.Status.RETIRED)
    version.status = ScriptVersion.Status.PUBLISHED
    version.published_by = by
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_by", "published_at"])
    audit_change(actor=actor_of(by), object_type="script", object_id=version.pk, fields=["status", "published_at"])
    return version


def _copy_content(*, source: ScriptVersion, target: ScriptVersion) -> None:
    TalkingPoint.objects.bulk_create(
        TalkingPoint(version=target, **{name: getattr(point, name) for name in POINT_FIELDS})
        for point in source.talking_points.order_by("order", "pk")
    )
    Question.objects.bulk_create(
        Question(version=target, **{name: getattr(question, name) for name in QUESTION_FIELDS})
        for question in source.questions.order_by("order", "pk")
    )


@transaction.atomic
def script_version_create(
    *, script: CallScript, by, notes: str = "", via: str = "", language: str = "", title: str = ""
) -> ScriptVersion:
    """A new empty draft with the script's next number, in ``language``
    (default: the script's main language)."""
    CallScript.objects.select_for_update().filter(pk=script.pk).first()
    version = ScriptVersion.objects.create(
        script=script,
        number=script_version_next_number(script),
        notes=notes,
        language=language or script.language,
        title=title,
    )
    audit_change(
        actor=actor_of(by, via),
        action=AuditEvent.Action.CREATE,
        object_type="script",
        object_id=version.pk,
        fields=["script", "number", "language", "title", "notes"],
    )
    return version


@transaction.atomic
def script_version_duplicate(*, version: ScriptVersion, by) -> ScriptVersion:
    """A new draft of the same script and language with the next number and a
    copy of the version's title, talking points and questions (to translate
    it, change the draft's language and texts)."""
    draft = script_version_create(
        script=version.script,
        by=by,
        notes=_("Copied from version %(number)s.") % {"number": version.number},
        language=version.language,
        title=version.title,
    )
    _copy_content(source=version, target=draft)
    return draft


# --- JSON export and import ------------------------------------------------------


def script_version_export(*, version: ScriptVersion) -> dict[str, Any]:
    script = version.script
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "script": {
            "name": script.name,
            "language": script.language,
            "diagnosis_match": script.diagnosis_match,
            "departments": sorted(script.departments.values_list("code", flat=True)),
        },
        "version": {
            "number": version.number,
            "language": version.language,
            "title": version.title,
            "notes": version.notes,
        },
        "talking_points": [
            {name: getattr(point, name) for name in POINT_FIELDS}
            for point in version.talking_points.order_by("order", "pk")
        ],
        "questions": [
            {name: _json_number(getattr(question, name)) for name in QUESTION_FIELDS}
            for question in version.questions.order_by("order", "pk")
        ],
    }


def _json_number(value):
    """A range limit as JSON writes it: 60, 37.5 (never "60.000")."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def script_version_export_json(*, version: ScriptVersion) -> str:
    return json.dumps(script_version_export(version=version), ensure_ascii=False, indent=2) + "\n"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_text_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_number_or_null(value) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _is_answer_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)


# field -> (required?, default, type check, plain type name)
_POINT_SPEC = {
    "phase": (True, None, _is_text, gettext_lazy("text")),
    "order": (True, None, _is_int, gettext_lazy("whole number")),
    "text": (True, None, _is_text, gettext_lazy("text")),
    "guidance": (False, "", _is_text, gettext_lazy("text")),
}
_QUESTION_SPEC = {
    "order": (True, None, _is_int, gettext_lazy("whole number")),
    "text": (True, None, _is_text, gettext_lazy("text")),
    "help_text": (False, "", _is_text, gettext_lazy("text")),
    # Optional in every format: files without it read as before (docs/self-report.md).
    "patient_text": (False, "", _is_text, gettext_lazy("text")),
    "kind": (True, None, _is_text, gettext_lazy("text")),
    "choices": (False, list, _is_text_list, gettext_lazy("list of texts")),
    "required": (False, True, lambda v: isinstance(v, bool), gettext_lazy("true or false")),
    "red_flag_answers": (False, list, _is_answer_list, gettext_lazy("list of answers")),
    # Format 2; optional, so version 1 files (without them) read as before.
    "unit": (False, "", _is_text, gettext_lazy("text")),
    "min_value": (False, None, _is_number_or_null, gettext_lazy("number or null")),
    "max_value": (False, None, _is_number_or_null, gettext_lazy("number or null")),
    "out_of_range": (False, Question.OutOfRange.REFUSE.value, _is_text, gettext_lazy("text")),
}


def _read_items(data: dict, key: str, spec: dict, errors: list[str]) -> list[dict]:
    items = data.get(key)
    if not isinstance(items, list):
        errors.append(_("“%(key)s” must be a list.") % {"key": key})
        return []
    rows = []
    for index, item in enumerate(items, start=1):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            errors.append(_("%(where)s must be an object.") % {"where": where})
            continue
        row = {}
        for name, (required, default, check, type_name) in spec.items():
            if name not in item:
                if required:
                    errors.append(_("%(where)s: the field “%(field)s” is missing.") % {"where": where, "field": name})
                row[name] = default() if callable(default) else default
                continue
            if not check(item[name]):
                errors.append(
                    _("%(where)s: “%(field)s” must be a %(type)s.") % {"where": where, "field": name, "type": type_name}
                )
            row[name] = item[name]
        unknown = sorted(set(item) - set(spec))
        if unknown:
            errors.append(_("%(where)s: unknown fields %(fields)s.") % {"where": where, "fields": ", ".join(unknown)})
        rows.append(row)
    return rows


def _parse(data) -> dict:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("The file is not UTF-8 text.")) from exc
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("The file is not valid JSON (line %(line)s, column %(column)s: %(reason)s).")
                % {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
            ) from exc
    if not isinstance(data, dict):
        raise ValidationError(_("The file must hold one JSON object."))
    if data.get("format") != FORMAT_NAME:
        raise ValidationError(
            _("This is not a follow-up script file (“format” must be “%(format)s”).") % {"format": FORMAT_NAME}
        )
    found = data.get("format_version")
    if isinstance(found, bool) or found not in READABLE_FORMAT_VERSIONS:
        raise ValidationError(
            _("Unsupported format version %(found)s; this system reads versions %(versions)s.")
            % {"found": found, "versions": ", ".join(str(v) for v in READABLE_FORMAT_VERSIONS)}
        )
    return data


def _language_errors(where: str, language) -> list[str]:
    if not isinstance(language, str) or not language.strip():
        return [_("%(where)s: the field “language” is missing.") % {"where": where}]
    if language not in CallScript.Language.values:
        return [
            _("%(where)s: unknown language “%(language)s” (use %(choices)s).")
            % {"where": where, "language": language, "choices": ", ".join(CallScript.Language.values)}
        ]
    return []


def _validate(data: dict) -> tuple[dict, list[Department], list[dict], list[dict]]:
    """Check everything before anything is written; raise with every reason.
    The first value holds the script's name, main language and diagnosis
    match, and the version's language, title and notes."""
    errors: list[str] = []
    script = data.get("script")
    if not isinstance(script, dict):
        errors.append(_("“script” must be an object with name, language, diagnosis_match and departments."))
        script = {}
    if not isinstance(script.get("name"), str) or not script.get("name").strip():
        errors.append(_("script: the field “%(field)s” is missing.") % {"field": "name"})
    version = data.get("version", {})
    if not isinstance(version, dict) or not isinstance(version.get("notes", ""), str):
        errors.append(_("“version” must be an object with a text “notes”."))
        version = {}
    if data.get("format_version") == 1:
        # Version 1: the version is in the script's (only) language.
        errors.extend(_language_errors("script", script.get("language")))
        version_language, title = script.get("language"), ""
    else:
        version_language, title = version.get("language"), version.get("title", "")
        errors.extend(_language_errors("version", version_language))
        if "language" in script:
            errors.extend(_language_errors("script", script["language"]))
        if not isinstance(title, str):
            errors.append(_("version: “title” must be a text."))
            title = ""
    if not isinstance(script.get("diagnosis_match", ""), str):
        errors.append(_("script: “diagnosis_match” must be a text."))
    codes = script.get("departments", [])
    departments: list[Department] = []
    if not _is_text_list(codes):
        errors.append(_("script: “departments” must be a list of department codes."))
    else:
        found = {d.code: d for d in Department.objects.filter(code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            errors.append(_("script: unknown department codes %(codes)s.") % {"codes": ", ".join(missing)})
        departments = [found[code] for code in codes if code in found]

    points = _read_items(data, "talking_points", _POINT_SPEC, errors)
    for index, point in enumerate(points, start=1):
        if isinstance(point["phase"], str) and point["phase"] not in TalkingPoint.Phase.values:
            errors.append(
                _("talking_points[%(index)s]: unknown phase “%(phase)s” (use %(choices)s).")
                % {"index": index, "phase": point["phase"], "choices": ", ".join(TalkingPoint.Phase.values)}
            )
    questions = _read_items(data, "questions", _QUESTION_SPEC, errors)
    for index, question in enumerate(questions, start=1):
        if isinstance(question["kind"], str) and question["kind"] not in Question.Kind.values:
            errors.append(
                _("questions[%(index)s]: unknown kind “%(kind)s” (use %(choices)s).")
                % {"index": index, "kind": question["kind"], "choices": ", ".join(Question.Kind.values)}
            )
        errors.extend(_range_errors(index, question))
        for name in ("min_value", "max_value"):
            if _is_number_or_null(question[name]) and question[name] is not None:
                question[name] = Decimal(str(question[name]))  # 0.1 stays 0.1, not 0.1000000000000000055
    header = {
        "name": script.get("name"),
        "language": script.get("language") or version_language,
        "diagnosis_match": script.get("diagnosis_match", ""),
        "version_language": version_language,
        "title": title,
        "notes": version.get("notes", ""),
    }
    if not errors:
        errors.extend(_model_errors(header, points, questions))
    if errors:
        raise ValidationError(errors)
    return header, departments, points, questions


def _range_errors(index: int, question: dict) -> list[str]:
    """A number question's unit and range: only on number questions, the
    lowest not above the highest, a known out-of-range policy."""
    errors = []
    where = f"questions[{index}]"
    if question["out_of_range"] not in Question.OutOfRange.values:
        errors.append(
            _("%(where)s: unknown out_of_range “%(value)s” (use %(choices)s).")
            % {"where": where, "value": question["out_of_range"], "choices": ", ".join(Question.OutOfRange.values)}
        )
    if question["kind"] != Question.Kind.NUMBER and any(question[name] not in (None, "") for name in RANGE_FIELDS):
        errors.append(_("%(where)s: only number questions have a unit and an allowed range.") % {"where": where})
    low, high = question["min_value"], question["max_value"]
    if _is_number_or_null(low) and _is_number_or_null(high) and None not in (low, high) and low > high:
        errors.append(_("%(where)s: “min_value” is above “max_value”.") % {"where": where})
    return errors


def _model_errors(script: dict, points: list[dict], questions: list[dict]) -> list[str]:
    """What the models themselves refuse (lengths, blanks), with the place."""
    errors = []
    checks = [
        (
            "script",
            CallScript(name=script["name"], language=script["language"], diagnosis_match=script["diagnosis_match"]),
        ),
        ("version", ScriptVersion(language=script["version_language"], title=script["title"], notes=script["notes"])),
    ]
    checks += [(f"talking_points[{i}]", TalkingPoint(**p)) for i, p in enumerate(points, start=1)]
    checks += [(f"questions[{i}]", Question(**q)) for i, q in enumerate(questions, start=1)]
    for where, instance in checks:
        try:
            instance.full_clean(exclude=["version", "script", "number"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    errors.append(f"{where}: {field}: {message}")
    return errors


@transaction.atomic
def script_version_import(*, data, by, script: CallScript | None = None, via: str = "") -> ScriptVersion:
    """Create a new draft from an exported file (text, bytes or the parsed
    dict), in the file's version language: of ``script`` if given, else of
    the script with the file's name (several: the one whose main language is
    the version's), else of a new script. An invalid file raises a ValidationError with every reason and
    changes nothing."""
    header = _parse(data)
    script_data, departments, points, questions = _validate(header)
    language = script_data["version_language"]
    if script is None:
        same_name = list(CallScript.objects.filter(name=script_data["name"]).order_by("pk"))
        script = next((s for s in same_name if s.language == language), same_name[0] if same_name else None)
    if script is None:
        script = CallScript.objects.create(
            name=script_data["name"], language=script_data["language"], diagnosis_match=script_data["diagnosis_match"]
        )
        script.departments.set(departments)
    draft = script_version_create(
        script=script, by=by, notes=script_data["notes"], via=via, language=language, title=script_data["title"]
    )
    TalkingPoint.objects.bulk_create(TalkingPoint(version=draft, **point) for point in points)
    Question.objects.bulk_create(Question(version=draft, **question) for question in questions)
    return draft
