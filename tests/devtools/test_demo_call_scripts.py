import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import translation

from calls.models import CallScript, Question, RuleStep, ScriptVersion, TalkingPoint
from calls.services.scripts import script_version_export, script_version_publish_problems
from followup.devtools.demo import call_scripts as demo_scripts
from followup.models import AuditEvent
from tests.factories import (
    CallScriptFactory,
    FollowUpRuleFactory,
    RuleStepFactory,
    ScriptVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# department, script name, and its published versions: (number, language, title)
EXPECTED = [
    ("BRST", "Breast cancer surgery follow-up", [(1, "en", ""), (2, "zh-hans", "乳腺癌术后随访")]),
    ("CARD", "Cardiology discharge follow-up", [(1, "en", ""), (2, "zh-hans", "心内科出院随访")]),
    ("GSUR", "General discharge follow-up", [(1, "en", ""), (2, "zh-hans", "通用出院随访")]),
    ("ONCO", "Oncology discharge follow-up", [(1, "en", ""), (2, "zh-hans", "肿瘤科出院随访")]),
]
SAFETY_GUIDANCE = {
    "zh-hans": (
        "家属接听时，先问候家里的情况，切勿一开口就问“病人怎么样了”——患者可能已经去世。"
        "若得知患者已去世：表示诚挚的哀悼（“非常抱歉听到这个消息，请您节哀”），"
        "展开下方的“家属告知患者已去世”，填写死亡日期（家属未说时勾选“日期不详”），"
        "核对将取消的随访后确认登记；此后不再给这个家庭打随访电话。"
    ),
    "en": (
        "When a family member answers, ask how things are at home first; never start with "
        "“how is the patient?” - the patient may have died. If the patient has died: offer sincere "
        "condolences (“I am so sorry for your loss”), open “Family member says the patient has died” below "
        "the script, give the date of death (or tick “Date unknown” when the family did not say), check the "
        "calls it cancels and confirm; make no further calls to this family."
    ),
}


def snapshot():
    return (
        list(CallScript.objects.order_by("pk").values_list("pk", "name", "language", "departments__code")),
        list(ScriptVersion.objects.order_by("pk").values_list("pk", "number", "language", "status", "published_at")),
        list(TalkingPoint.objects.order_by("pk").values_list("pk", "text")),
        list(Question.objects.order_by("pk").values_list("pk", "text")),
    )


def seed() -> None:
    demo_scripts.seed(io.StringIO())


def test_seed_publishes_the_four_scripts_each_in_chinese_and_english():
    seed()
    scripts = sorted(
        (
            s.departments.get().code,
            s.name,
            list(s.versions.filter(status="published").order_by("number").values_list("number", "language", "title")),
        )
        for s in CallScript.objects.prefetch_related("departments")
    )
    assert scripts == EXPECTED
    assert ScriptVersion.objects.exclude(status="published").count() == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_seeded_script_has_the_four_phases_safety_guidance_and_a_booked_next_call(language):
    seed()
    safety = SAFETY_GUIDANCE[language]
    next_call = "下次" if language == "zh-hans" else "call you again"
    for version in ScriptVersion.objects.filter(language=language):
        phases = set(version.talking_points.values_list("phase", flat=True))
        assert phases == {"preparation", "opening", "main", "closing"}, version
        assert version.talking_points.filter(phase="opening", guidance=safety).count() == 1, version
        assert version.talking_points.filter(phase="closing", text__contains=next_call).count() == 1, version
        assert any(q.red_flag_answers for q in version.questions.all()), version
        assert script_version_publish_problems(version) == ["Only a draft can be published; this version is published."]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_safety_guidance_names_only_what_the_call_screen_shows(language):
    """The script once said to click “患者已去世”, a button no screen has: every
    label the guidance quotes is one the call screen shows in that language."""
    with translation.override(language):
        labels = {
            translation.gettext("Family member says the patient has died"),
            translation.gettext("Date unknown: the family did not say").split("：")[0].split(":")[0],
        }
    quoted = set(re.findall(r"“([^”]+)”", SAFETY_GUIDANCE[language]))
    spoken = {"非常抱歉听到这个消息，请您节哀", "病人怎么样了", "I am so sorry for your loss", "how is the patient?"}
    assert quoted - spoken == labels


def test_the_demo_scripts_are_the_shared_script_files_imported_and_published_by_the_demo_admin():
    admin = UserFactory(username="admin")
    seed()
    files = demo_scripts.script_files()
    assert [path.name for path in files] == [
        "breast-surgery.en.json",
        "breast-surgery.zh-hans.json",
        "cardiology.en.json",
        "cardiology.zh-hans.json",
        "general.en.json",
        "general.zh-hans.json",
        "oncology.en.json",
        "oncology.zh-hans.json",
    ]
    for path in files:
        version = ScriptVersion.objects.get(
            script__name=demo_scripts.script_header(path)["name"], language=path.name.split(".")[1]
        )
        assert script_version_export(version=version) == json.loads(path.read_text(encoding="utf-8"))
        assert version.published_by == admin
        created = AuditEvent.objects.get(object_type="script", object_id=str(version.pk), action="create")
        assert (created.source, created.actor_name) == ("import", f"import:{path.name}")


def test_cardiology_covers_the_ten_topics_with_a_chest_pain_red_flag():
    seed()
    version = ScriptVersion.objects.get(script__name="Cardiology discharge follow-up", language="en")
    assert version.talking_points.filter(phase="main").count() == 10
    chest_pain = version.questions.get(text="Any chest pain or tightness at rest?")
    assert chest_pain.red_flag_answers == ["yes"]


def test_breast_script_flags_a_swollen_arm_with_fever():
    seed()
    version = ScriptVersion.objects.get(title="乳腺癌术后随访")
    question = version.questions.get(text="手术侧手臂是否肿胀并伴有发热？")
    assert (question.kind, question.red_flag_answers) == ("yes_no", ["yes"])


def test_red_flags_of_choice_questions_are_among_their_choices():
    seed()
    for question in Question.objects.filter(kind__in=["single", "multiple"]):
        assert set(question.red_flag_answers) <= set(question.choices), question


def test_seeding_twice_changes_nothing():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


def test_seed_links_rule_steps_without_a_script_and_leaves_the_others():
    seed()
    cardiology_step = RuleStepFactory(rule=FollowUpRuleFactory(department__code="CARD"), offset_days=7)
    chosen = CallScript.objects.get(name="General discharge follow-up")
    kept = RuleStepFactory(rule=cardiology_step.rule, offset_days=30, script=chosen)
    elsewhere = RuleStepFactory(rule=FollowUpRuleFactory(department__code="XYZ"))

    assert demo_scripts.link_rule_steps() == 1
    assert demo_scripts.link_rule_steps() == 0

    assert RuleStep.objects.get(pk=cardiology_step.pk).script.name == "Cardiology discharge follow-up"
    assert RuleStep.objects.get(pk=kept.pk).script == chosen
    assert RuleStep.objects.get(pk=elsewhere.pk).script is None


def test_a_demo_seeded_before_scripts_had_languages_gets_the_bilingual_scripts():
    """An earlier seeding made one script per language and linked the steps
    to the Chinese one: seeding again adds the Chinese version to the shared
    script and moves the steps to it."""
    old = CallScriptFactory(name="心内科出院随访", language="zh-hans")
    ScriptVersionFactory(script=old, language="zh-hans")
    step = RuleStepFactory(rule=FollowUpRuleFactory(department__code="CARD"), script=old)

    seed()

    step.refresh_from_db()
    assert step.script.name == "Cardiology discharge follow-up"
    assert sorted(step.script.versions.values_list("language", "status")) == [
        ("en", "published"),
        ("zh-hans", "published"),
    ]


def test_seed_demo_runs_the_script_seeder(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert CallScript.objects.count() == 4
    assert ScriptVersion.objects.filter(status="published").count() == 8
