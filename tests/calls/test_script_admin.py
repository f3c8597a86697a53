import io
import json
import re
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calls.models import CallScript, Question, ScriptVersion, TalkingPoint
from calls.services.scripts import script_version_export
from tests.factories import (
    CallScriptFactory,
    DepartmentFactory,
    FollowUpCallFactory,
    RuleStepFactory,
    publishable_version,
)

pytestmark = pytest.mark.django_db

Status = ScriptVersion.Status


def change_url(version) -> str:
    return reverse("admin:calls_scriptversion_change", args=[version.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def inline_data(version, *, point_text: str) -> dict:
    """The POST of the change form with the first talking point re-worded."""
    points = list(version.talking_points.order_by("order", "pk"))
    questions = list(version.questions.order_by("order", "pk"))
    data = {
        "language": version.language,
        "title": version.title,
        "notes": "Reworded",
        "talking_points-TOTAL_FORMS": str(len(points)),
        "talking_points-INITIAL_FORMS": str(len(points)),
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": str(len(questions)),
    }
    for i, point in enumerate(points):
        data |= {
            f"talking_points-{i}-id": point.pk,
            f"talking_points-{i}-version": version.pk,
            f"talking_points-{i}-phase": point.phase,
            f"talking_points-{i}-order": point.order,
            f"talking_points-{i}-text": point_text if i == 0 else point.text,
            f"talking_points-{i}-guidance": point.guidance,
        }
    for i, question in enumerate(questions):
        data |= {
            f"questions-{i}-id": question.pk,
            f"questions-{i}-version": version.pk,
            f"questions-{i}-order": question.order,
            f"questions-{i}-text": question.text,
            f"questions-{i}-kind": question.kind,
            f"questions-{i}-choices": "\n".join(question.choices),
            f"questions-{i}-required": "on",
            f"questions-{i}-red_flag_answers": "\n".join(question.red_flag_answers),
            f"questions-{i}-unit": question.unit,
            f"questions-{i}-min_value": "" if question.min_value is None else str(question.min_value),
            f"questions-{i}-max_value": "" if question.max_value is None else str(question.max_value),
            f"questions-{i}-out_of_range": question.out_of_range,
        }
    return data


def test_admin_edits_a_draft_through_the_inlines(client_for, admin_user):
    draft = publishable_version()
    response = client_for(admin_user).post(change_url(draft), inline_data(draft, point_text="您好，我是您的责任护士"))
    assert response.status_code == 302
    assert draft.talking_points.order_by("order", "pk").first().text == "您好，我是您的责任护士"


@pytest.mark.parametrize("lock", ["published", "used by a call"])
def test_a_locked_version_is_read_only_in_the_admin_with_a_duplicate_button(client_for, admin_user, lock):
    version = publishable_version(status=Status.PUBLISHED if lock == "published" else Status.DRAFT)
    if lock == "used by a call":
        FollowUpCallFactory(script_version=version)
    client = client_for(admin_user)

    page = client.get(change_url(version))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="talking_points-0-text"' not in html
    assert reverse("admin:calls_scriptversion_duplicate", args=[version.pk]) in html
    assert messages_of(page) == [
        "This version is locked because it was published or used by a call. "
        "To change it, duplicate it into a new draft."
    ]

    refused = client.post(change_url(version), inline_data(version, point_text="Changed"))
    assert refused.status_code == 403
    assert version.talking_points.filter(text="Changed").count() == 0


def test_duplicate_button_makes_a_new_draft_and_opens_it(client_for, admin_user):
    version = publishable_version(status=Status.PUBLISHED)
    response = client_for(admin_user).post(reverse("admin:calls_scriptversion_duplicate", args=[version.pk]))
    draft = ScriptVersion.objects.get(script=version.script, number=2)
    assert response.url == change_url(draft)
    assert draft.talking_points.count() == 3
    assert messages_of(response) == [f"{version} was copied into the new draft {draft}."]


def test_publish_button_publishes_or_says_why_not(client_for, admin_user):
    client = client_for(admin_user)
    ready = publishable_version()
    empty = ScriptVersion.objects.create(script=CallScriptFactory(name="Empty"), number=1)

    published = client.post(reverse("admin:calls_scriptversion_publish", args=[ready.pk]))
    refused = client.post(reverse("admin:calls_scriptversion_publish", args=[empty.pk]))

    ready.refresh_from_db()
    empty.refresh_from_db()
    assert (ready.status, ready.published_by) == (Status.PUBLISHED, admin_user)
    assert published.url == change_url(ready)
    assert empty.status == Status.DRAFT
    assert messages_of(refused) == [
        f"{ready} is published, but no nurse sees it yet: no rule step names this script. "
        "Name it on a rule step of the follow-up rules.",
        "Empty v1 (Simplified Chinese) was not published: Add at least one opening talking point. "
        "Add at least one closing talking point. Add at least one question.",
    ]


def test_publishing_a_second_language_says_which_nurses_see_it_and_keeps_the_first(client_for, admin_user, settings):
    settings.LANGUAGE_CODE = "en"
    script = CallScriptFactory(name="Cardiology day 7", language="en")
    RuleStepFactory(script=script, rule__is_active=True)
    RuleStepFactory(script=script, rule__is_active=True, offset_days=30)
    RuleStepFactory(script=script, rule__is_active=False)
    english = publishable_version(script=script, number=1, language="en")
    chinese = publishable_version(script=script, number=2, language="zh-hans", title="心内科第7天随访")
    client = client_for(admin_user)

    first = client.post(reverse("admin:calls_scriptversion_publish", args=[english.pk]))
    assert messages_of(first) == [
        "Cardiology day 7 v1 (English) is published. From the next call they open, nurses working in English "
        "and Simplified Chinese see it on the calls of 2 rule steps that name this script; calls already "
        "answered keep the version they were answered with."
    ]
    second = client.post(reverse("admin:calls_scriptversion_publish", args=[chinese.pk]))
    assert messages_of(second)[1:] == [
        "Cardiology day 7 v2 (Simplified Chinese) is published. From the next call they open, nurses working "
        "in Simplified Chinese see it on the calls of 2 rule steps that name this script; calls already "
        "answered keep the version they were answered with."
    ]
    assert list(script.versions.order_by("number").values_list("language", "status")) == [
        ("en", Status.PUBLISHED),
        ("zh-hans", Status.PUBLISHED),
    ]


def test_publish_message_in_chinese_names_the_departments_when_no_step_names_the_script(client_for, admin_user):
    script = CallScriptFactory(name="General", language="zh-hans")
    script.departments.add(DepartmentFactory(code="CARD"), DepartmentFactory(code="ONCO"))
    version = publishable_version(script=script, language="zh-hans")
    client = client_for(admin_user)
    client.cookies.load({"django_language": "zh-hans"})

    response = client.post(reverse("admin:calls_scriptversion_publish", args=[version.pk]))

    assert messages_of(response) == [
        "General v1 (简体中文) 已发布。没有规则步骤指定此话术，因此使用英文和简体中文界面的护士只在其科室（CARD, ONCO）"
        "中规则步骤未指定已发布话术的随访上看到它。"
    ]


def test_publish_action_publishes_the_ready_drafts_and_reports_the_others(client_for, admin_user):
    ready = publishable_version()
    empty = ScriptVersion.objects.create(script=CallScriptFactory(name="Empty"), number=1)
    response = client_for(admin_user).post(
        reverse("admin:calls_scriptversion_changelist"),
        {"action": "publish_versions", "_selected_action": [ready.pk, empty.pk]},
    )
    assert response.status_code == 302
    assert list(ScriptVersion.objects.order_by("pk").values_list("status", flat=True)) == [
        Status.PUBLISHED,
        Status.DRAFT,
    ]
    assert messages_of(response)[-1] == "1 version published."


def test_export_button_downloads_one_json_file(client_for, admin_user):
    version = publishable_version(script=CallScriptFactory(name="Cardiology"))
    response = client_for(admin_user).get(reverse("admin:calls_scriptversion_export", args=[version.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="cardiology-v1.json"'
    assert json.loads(response.content) == script_version_export(version=version)


def test_export_action_downloads_a_zip_for_several_versions(client_for, admin_user):
    first = publishable_version(script=CallScriptFactory(name="Alpha"))
    second = publishable_version(script=CallScriptFactory(name="Beta"), number=2)
    response = client_for(admin_user).post(
        reverse("admin:calls_scriptversion_changelist"),
        {"action": "export_versions", "_selected_action": [first.pk, second.pk]},
    )
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["alpha-v1.json", "beta-v2.json"]
    assert json.loads(archive.read("beta-v2.json")) == script_version_export(version=second)


def test_import_page_makes_a_draft_from_an_uploaded_file(client_for, admin_user):
    version = publishable_version(status=Status.PUBLISHED)
    upload = SimpleUploadedFile("s.json", json.dumps(script_version_export(version=version)).encode())
    response = client_for(admin_user).post(reverse("admin:calls_scriptversion_import"), {"file": upload})
    draft = ScriptVersion.objects.get(script=version.script, number=2)
    assert response.url == change_url(draft)
    assert draft.status == Status.DRAFT


def test_import_page_shows_every_reason_and_changes_nothing(client_for, admin_user):
    version = publishable_version()
    data = script_version_export(version=version)
    data["talking_points"][0]["phase"] = "middle"
    data["script"]["departments"] = ["NOPE"]
    upload = SimpleUploadedFile("s.json", json.dumps(data).encode())
    client = client_for(admin_user)

    response = client.post(reverse("admin:calls_scriptversion_import"), {"file": upload})

    html = response.content.decode()
    assert response.status_code == 200
    assert "script: unknown department codes NOPE." in html
    assert "talking_points[1]: unknown phase “middle” (use preparation, opening, main, closing)." in html
    assert (ScriptVersion.objects.count(), TalkingPoint.objects.count(), Question.objects.count()) == (1, 3, 1)


@pytest.mark.parametrize("user", ["nurse", "head_nurse", "officer"])
def test_script_admin_pages_are_refused_to_non_admins(client_for, request, user):
    version = publishable_version()
    client = client_for(request.getfixturevalue(user))
    for url in (
        reverse("admin:calls_scriptversion_import"),
        reverse("admin:calls_scriptversion_export", args=[version.pk]),
        change_url(version),
    ):
        assert client.get(url).status_code == 302  # not staff: the admin asks to log in
    assert client.post(reverse("admin:calls_scriptversion_duplicate", args=[version.pk])).status_code == 302
    assert ScriptVersion.objects.count() == 1


def test_question_inline_refuses_red_flags_outside_the_choices(client_for, admin_user):
    draft = publishable_version()
    question = draft.questions.get()
    data = inline_data(draft, point_text="Hello")
    data |= {
        "questions-0-kind": "single",
        "questions-0-choices": "better\nworse",
        "questions-0-red_flag_answers": "bad",
    }
    response = client_for(admin_user).post(change_url(draft), data)
    assert response.status_code == 200
    assert "Red-flag answers must be among the choices: bad is not." in response.content.decode()
    question.refresh_from_db()
    assert question.kind == "yes_no"


def test_script_list_and_satisfaction_items_pages_open(client_for, admin_user):
    script = CallScriptFactory()
    publishable_version(script=script)
    client = client_for(admin_user)
    assert client.get(reverse("admin:calls_callscript_changelist")).status_code == 200
    assert client.get(reverse("admin:calls_callscript_change", args=[script.pk])).status_code == 200
    assert client.get(reverse("admin:calls_scriptversion_add") + f"?script={script.pk}").status_code == 200
    assert client.get(reverse("admin:calls_satisfactionitem_changelist")).status_code == 200


def test_adding_a_version_in_the_admin_numbers_it_after_the_last(client_for, admin_user):
    script = CallScriptFactory()
    publishable_version(script=script, number=4, status=Status.PUBLISHED)
    response = client_for(admin_user).post(
        reverse("admin:calls_scriptversion_add"),
        {
            "script": script.pk,
            "language": "zh-hans",
            "title": "通用随访",
            "notes": "",
            "talking_points-TOTAL_FORMS": "0",
            "talking_points-INITIAL_FORMS": "0",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert list(script.versions.values_list("number", "language", "title", "status")) == [
        (5, "zh-hans", "通用随访", "draft"),
        (4, "en", "", "published"),
    ]
    assert CallScript.objects.count() == 1


def test_import_page_refuses_a_file_over_the_import_limit(client_for, admin_user, settings):
    settings.IMPORT_MAX_BYTES = 1024
    upload = SimpleUploadedFile("s.json", b"{" + b" " * 2048 + b"}")
    response = client_for(admin_user).post(reverse("admin:calls_scriptversion_import"), {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["The file is larger than 1.0\xa0KB, the largest accepted. Nothing was saved: choose a smaller file."]
    }
    assert ScriptVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "selected"),
    [("?script={pk}", "en"), ("?script={pk}&language=zh-hans", "zh-hans"), ("?script=abc", "zh-hans"), ("", "zh-hans")],
)
def test_a_new_version_starts_in_the_scripts_main_language(client_for, admin_user, query, selected):
    script = CallScriptFactory(language="en")
    url = reverse("admin:calls_scriptversion_add") + query.format(pk=script.pk)

    response = client_for(admin_user).get(url)

    assert response.status_code == 200
    language = re.search(r'<select name="language".*?</select>', response.content.decode(), re.S).group(0)
    assert re.findall(r'<option value="([\w-]+)" selected>', language) == [selected]
