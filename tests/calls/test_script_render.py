from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from calls.forms.script_answers import CallAnswersForm
from calls.models import Question, ScriptVersion, TalkingPoint
from calls.selectors.scripts import script_render, script_version_for_call
from calls.templatetags.scripts import script_block
from tests.factories import (
    CallScriptFactory,
    DepartmentFactory,
    DischargeFactory,
    FollowUpCallFactory,
    QuestionFactory,
    ScriptVersionFactory,
    TalkingPointFactory,
)

pytestmark = pytest.mark.django_db

Phase = TalkingPoint.Phase
Kind = Question.Kind


def make_version(points_per_phase: int, questions: int) -> ScriptVersion:
    version = ScriptVersionFactory()
    for phase in Phase.values:
        TalkingPointFactory.create_batch(points_per_phase, version=version, phase=phase, guidance="Speak slowly")
    QuestionFactory.create_batch(questions, version=version)
    return version


def render_script(version_pk: int) -> str:
    version = ScriptVersion.objects.get(pk=version_pk)
    script = script_render(version=version)
    form = CallAnswersForm(questions=script.questions)
    return render_to_string("calls/includes/_script.html", {"script": script, "answers_form": form})


@pytest.mark.parametrize("size", [1, 5])
def test_rendering_a_script_costs_the_same_queries_whatever_its_size(size, django_assert_num_queries):
    version = make_version(points_per_phase=size, questions=size * 2)
    with django_assert_num_queries(3):  # the version, its points, its questions
        html = render_script(version.pk)
    assert html.count('class="call-script-point') == size * 4
    assert html.count('name="q_') >= size * 2


def test_script_render_groups_points_by_phase_in_call_order_with_empty_phases():
    version = ScriptVersionFactory()
    closing = TalkingPointFactory(version=version, phase=Phase.CLOSING, order=1, text="Goodbye")
    second = TalkingPointFactory(version=version, phase=Phase.OPENING, order=2, text="I am your nurse")
    first = TalkingPointFactory(version=version, phase=Phase.OPENING, order=1, text="Hello")
    q2 = QuestionFactory(version=version, order=2)
    q1 = QuestionFactory(version=version, order=1)

    script = script_render(version=version)

    assert [(b.phase, b.points) for b in script.phases] == [
        ("preparation", []),
        ("opening", [first, second]),
        ("main", []),
        ("closing", [closing]),
    ]
    assert [b.label for b in script.phases] == ["Preparation", "Opening", "Main follow-up", "Closing"]
    assert script.questions == [q1, q2]
    assert script.version == version


def test_script_partial_shows_guidance_and_puts_the_form_in_the_main_phase():
    version = make_version(points_per_phase=1, questions=1)
    html = render_script(version.pk)
    assert "<form" not in html
    assert html.count("Speak slowly") == 4
    main_at = html.index('id="script-phase-main"')
    closing_at = html.index('id="script-phase-closing"')
    assert main_at < html.index('name="q_') < closing_at


# --- the answers form ----------------------------------------------------------------


def questions_of_every_kind() -> dict[str, Question]:
    version = ScriptVersionFactory()
    return {
        "yes_no": QuestionFactory(
            version=version, kind=Kind.YES_NO, text="Chest pain at rest?", red_flag_answers=["yes"]
        ),
        "single": QuestionFactory(
            version=version, kind=Kind.SINGLE, choices=["better", "same", "worse"], red_flag_answers=["worse"]
        ),
        "multiple": QuestionFactory(
            version=version,
            kind=Kind.MULTIPLE,
            choices=["fever", "swelling", "none"],
            red_flag_answers=["fever", "swelling"],
            required=False,
        ),
        "score": QuestionFactory(version=version, kind=Kind.SCORE, red_flag_answers=[1, 2]),
        "number": QuestionFactory(version=version, kind=Kind.NUMBER, required=False),
        "text": QuestionFactory(version=version, kind=Kind.TEXT, required=False, help_text="Their words"),
    }


def test_answers_form_has_one_field_per_question_with_label_and_help():
    questions = questions_of_every_kind()
    form = CallAnswersForm(questions=list(questions.values()))
    assert list(form.fields) == [f"q_{q.pk}" for q in questions.values()]
    yes_no = form.fields[f"q_{questions['yes_no'].pk}"]
    assert yes_no.label == "Chest pain at rest?"
    assert list(yes_no.choices) == [("yes", "Yes"), ("no", "No")]
    assert form.fields[f"q_{questions['text'].pk}"].help_text == "Their words"
    assert form.fields[f"q_{questions['score'].pk}"].choices == [(n, str(n)) for n in range(1, 11)]
    assert form.helper.form_tag is False


def test_answers_form_cleans_answers_to_json_values_and_finds_red_flags():
    q = questions_of_every_kind()
    data = {
        f"q_{q['yes_no'].pk}": "yes",
        f"q_{q['single'].pk}": "same",
        f"q_{q['multiple'].pk}": ["none", "swelling"],
        f"q_{q['score'].pk}": "8",
        f"q_{q['number'].pk}": "37.5",
        f"q_{q['text'].pk}": "Walks every day",
    }
    form = CallAnswersForm(data, questions=list(q.values()))
    assert form.is_valid(), form.errors
    assert form.answers() == {
        q["yes_no"].pk: "yes",
        q["single"].pk: "same",
        q["multiple"].pk: ["none", "swelling"],
        q["score"].pk: 8,
        q["number"].pk: 37.5,
        q["text"].pk: "Walks every day",
    }
    assert form.red_flags() == [q["yes_no"], q["multiple"]]


def test_answers_form_red_flags_a_low_score_and_ignores_blank_optional_answers():
    q = questions_of_every_kind()
    data = {f"q_{q['yes_no'].pk}": "no", f"q_{q['single'].pk}": "worse", f"q_{q['score'].pk}": "2"}
    form = CallAnswersForm(data, questions=list(q.values()))
    assert form.is_valid(), form.errors
    assert form.answers()[q["multiple"].pk] is None
    assert form.answers()[q["number"].pk] is None
    assert form.red_flags() == [q["single"], q["score"]]


def test_answers_form_refuses_missing_required_answers_and_bad_values_in_plain_words():
    q = questions_of_every_kind()
    data = {f"q_{q['single'].pk}": "sideways", f"q_{q['score'].pk}": "11", f"q_{q['number'].pk}": "lots"}
    form = CallAnswersForm(data, questions=list(q.values()))
    assert form.is_valid() is False
    assert form.errors[f"q_{q['yes_no'].pk}"] == ["Please answer this question."]
    assert form.errors[f"q_{q['single'].pk}"] == [
        "Select a valid choice. sideways is not one of the available choices."
    ]
    assert form.errors[f"q_{q['score'].pk}"] == ["Select a valid choice. 11 is not one of the available choices."]
    assert form.errors[f"q_{q['number'].pk}"] == ["Enter a number."]
    assert f"q_{q['multiple'].pk}" not in form.errors


def test_answers_form_number_keeps_whole_numbers_as_integers():
    question = QuestionFactory(kind=Kind.NUMBER)
    form = CallAnswersForm({f"q_{question.pk}": "120"}, questions=[question])
    assert form.is_valid()
    assert form.answers() == {question.pk: 120}
    assert isinstance(form.cleaned_data[f"q_{question.pk}"], Decimal)


# --- which version a call uses ----------------------------------------------------------


def published(script, number=1, status=ScriptVersion.Status.PUBLISHED):
    return ScriptVersionFactory(script=script, number=number, status=status)


def booked_call(discharge):
    """A call booked by a nurse: no rule step."""
    return FollowUpCallFactory(discharge=discharge, step=None, due_date=discharge.discharged_on)


def test_call_uses_the_version_recorded_on_it():
    recorded = ScriptVersionFactory(status=ScriptVersion.Status.RETIRED)
    call = FollowUpCallFactory(script_version=recorded)
    assert script_version_for_call(call=call) == recorded


def test_call_uses_the_latest_published_version_of_its_step_script():
    script = CallScriptFactory()
    published(script, 1, ScriptVersion.Status.RETIRED)
    latest = published(script, 2)
    published(script, 3, ScriptVersion.Status.DRAFT)
    call = FollowUpCallFactory(step__script=script)
    assert script_version_for_call(call=call) == latest


def test_call_without_a_step_script_uses_the_department_script_matching_the_diagnosis():
    department = DepartmentFactory()
    general = CallScriptFactory(name="A general")
    general.departments.add(department)
    published(general)
    coronary = CallScriptFactory(name="B coronary", diagnosis_match="I25")
    coronary.departments.add(department)
    coronary_v = published(coronary)
    heart_failure = CallScriptFactory(name="C failure", diagnosis_match="heart failure")
    heart_failure.departments.add(department)
    published(heart_failure)
    call = booked_call(DischargeFactory(department=department, icd10="I25.1"))
    assert script_version_for_call(call=call) == coronary_v


def test_call_falls_back_to_the_empty_match_script_and_prefers_the_ui_language():
    department = DepartmentFactory()
    english = CallScriptFactory(name="General", language="en")
    chinese = CallScriptFactory(name="通用", language="zh-hans")
    other_department = CallScriptFactory(name="Elsewhere", language="zh-hans")
    inactive = CallScriptFactory(name="Old", language="zh-hans", is_active=False)
    for script in (english, chinese, inactive):
        script.departments.add(department)
    english_v, chinese_v = published(english), published(chinese)
    published(other_department)
    published(inactive)
    call = booked_call(DischargeFactory(department=department, diagnosis="Angina"))

    with translation.override("zh-hans"):
        assert script_version_for_call(call=call) == chinese_v
    with translation.override("en"):
        assert script_version_for_call(call=call) == english_v


def test_call_has_no_script_when_its_department_has_none_published():
    department = DepartmentFactory()
    draft_only = CallScriptFactory()
    draft_only.departments.add(department)
    published(draft_only, status=ScriptVersion.Status.DRAFT)
    call = FollowUpCallFactory(discharge=DischargeFactory(department=department), step__script=None)
    assert script_version_for_call(call=call) is None


def test_a_published_versions_content_is_read_once_and_a_drafts_every_time(django_assert_num_queries):
    published = make_version(points_per_phase=1, questions=2)
    draft = make_version(points_per_phase=1, questions=1)
    ScriptVersion.objects.filter(pk=draft.pk).update(status=ScriptVersion.Status.DRAFT)

    first = render_script(published.pk)
    with django_assert_num_queries(1):  # the version: its points and questions are known
        again = render_script(published.pk)
    render_script(draft.pk)
    TalkingPointFactory(version=draft, phase=Phase.MAIN, text="Added to the draft")
    with django_assert_num_queries(4):  # the version, its script, points, questions
        edited = render_script(draft.pk)

    assert again == first
    assert "Added to the draft" in edited


@pytest.mark.parametrize("status", [ScriptVersion.Status.PUBLISHED, ScriptVersion.Status.DRAFT])
def test_a_points_lines_are_kept_and_its_markup_shown_as_text_each_time_it_is_shown(status):
    version = ScriptVersionFactory(status=status)
    TalkingPointFactory(
        version=version, phase=Phase.OPENING, text="Good afternoon.\n<b>Ask</b> & listen", guidance="Slowly\r\n<i>x</i>"
    )

    for _shown in range(2):  # the second time from what the process keeps (published)
        html = render_script(version.pk)
        assert "Good afternoon.<br>&lt;b&gt;Ask&lt;/b&gt; &amp; listen" in html
        assert "Slowly<br>&lt;i&gt;x&lt;/i&gt;" in html
        assert "<b>" not in html and "<i>" not in html


def block(version_pk: int, *, language: str = "en", **form_kwargs) -> str:
    """The call screen's script block ({% script_block %}), in ``language``."""
    with translation.override(language):  # as a request in that language does it
        version = ScriptVersion.objects.get(pk=version_pk)
        script = script_render(version=version)
        form = CallAnswersForm(questions=script.questions, **form_kwargs)
        return script_block(script, form)


def test_the_kept_script_block_is_the_template_rendered_each_time_in_each_language():
    version = make_version(points_per_phase=2, questions=3)
    QuestionFactory(version=version, text="<b>Swelling?</b>", kind=Kind.YES_NO)

    for language in ("en", "zh-hans", "en"):
        with translation.override(language):
            expected = render_script(version.pk)
        assert block(version.pk, language=language) == expected
        assert block(version.pk, language=language) == expected  # kept
    assert "For the nurse:" in block(version.pk) and "护士提示" in block(version.pk, language="zh-hans")
    assert "&lt;b&gt;Swelling?&lt;/b&gt;" in block(version.pk)


def test_a_script_block_with_answers_in_it_is_never_kept_nor_shown_to_another_call():
    version = make_version(points_per_phase=1, questions=1)
    question = Question.objects.get(version=version)
    question.kind, question.required = Kind.TEXT, True
    question.save()
    name = f"q_{question.pk}"

    typed = block(version.pk, initial={name: "Pain since Tuesday"})
    sent = block(version.pk, data={name: ""})
    empty = block(version.pk)

    assert "Pain since Tuesday" in typed
    assert "Please answer this question." in sent
    assert "Pain since Tuesday" not in empty and "Please answer this question." not in empty
    assert block(version.pk, initial={name: "Other words"}) != typed
