import pytest
from django.core.exceptions import ValidationError

from calls.models import Question, ScriptVersion, TalkingPoint
from calls.services.scripts import (
    script_version_duplicate,
    script_version_ensure_editable,
    script_version_is_locked,
    script_version_publish,
)
from tests.factories import (
    CallScriptFactory,
    FollowUpCallFactory,
    QuestionFactory,
    ScriptVersionFactory,
    TalkingPointFactory,
    publishable_version,
)

pytestmark = pytest.mark.django_db

Status = ScriptVersion.Status


def refusal(version, by) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        script_version_publish(version=version, by=by)
    return excinfo.value.messages


def test_a_draft_nobody_used_is_not_locked():
    assert script_version_is_locked(publishable_version()) is False


def test_a_draft_used_by_a_call_is_locked():
    draft = publishable_version()
    FollowUpCallFactory(script_version=draft)
    assert script_version_is_locked(draft) is True


@pytest.mark.parametrize("status", [Status.PUBLISHED, Status.RETIRED])
def test_published_and_retired_versions_are_locked(status):
    assert script_version_is_locked(publishable_version(status=status)) is True


def test_editing_a_locked_version_is_refused_with_the_way_out():
    version = publishable_version(status=Status.PUBLISHED, number=4)
    with pytest.raises(ValidationError) as excinfo:
        script_version_ensure_editable(version)
    assert excinfo.value.messages == [
        "Version 4 is locked because it was published or used by a call: duplicate it into a new draft."
    ]


def test_publishing_a_draft_records_who_and_retires_the_previous_published_version(admin_user):
    script = CallScriptFactory()
    old = publishable_version(script=script, status=Status.PUBLISHED, number=1)
    draft = publishable_version(script=script, number=2)
    other_script = publishable_version(status=Status.PUBLISHED)

    script_version_publish(version=draft, by=admin_user)

    draft.refresh_from_db()
    old.refresh_from_db()
    other_script.refresh_from_db()
    assert (draft.status, draft.published_by, draft.published_at is not None) == (Status.PUBLISHED, admin_user, True)
    assert old.status == Status.RETIRED
    assert other_script.status == Status.PUBLISHED


def test_publishing_an_empty_draft_gives_every_reason(admin_user):
    draft = ScriptVersionFactory(status=Status.DRAFT)
    TalkingPointFactory(version=draft, phase=TalkingPoint.Phase.MAIN)
    assert refusal(draft, admin_user) == [
        "Add at least one opening talking point.",
        "Add at least one closing talking point.",
        "Add at least one question.",
    ]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_publishing_without_a_closing_point_is_refused(admin_user):
    draft = publishable_version()
    draft.talking_points.filter(phase=TalkingPoint.Phase.CLOSING).delete()
    assert refusal(draft, admin_user) == ["Add at least one closing talking point."]


def test_publishing_without_an_opening_point_is_refused(admin_user):
    draft = publishable_version()
    draft.talking_points.filter(phase=TalkingPoint.Phase.OPENING).delete()
    assert refusal(draft, admin_user) == ["Add at least one opening talking point."]


def test_publishing_without_a_question_is_refused(admin_user):
    draft = publishable_version()
    draft.questions.all().delete()
    assert refusal(draft, admin_user) == ["Add at least one question."]


@pytest.mark.parametrize("kind", [Question.Kind.SINGLE, Question.Kind.MULTIPLE])
def test_publishing_a_choice_question_with_one_choice_is_refused(admin_user, kind):
    draft = publishable_version()
    QuestionFactory(version=draft, kind=kind, text="How is your arm?", choices=["fine"])
    assert refusal(draft, admin_user) == ["The choice question “How is your arm?” needs at least two choices."]


def test_publishing_an_already_published_version_is_refused(admin_user):
    version = publishable_version(status=Status.PUBLISHED)
    assert refusal(version, admin_user) == ["Only a draft can be published; this version is published."]


def test_duplicate_makes_a_draft_with_the_next_number_and_a_deep_copy(admin_user):
    script = CallScriptFactory()
    publishable_version(script=script, status=Status.RETIRED, number=1)
    source = publishable_version(script=script, status=Status.PUBLISHED, number=2)
    QuestionFactory(
        version=source,
        kind=Question.Kind.MULTIPLE,
        choices=["fever", "swelling"],
        red_flag_answers=["fever"],
        required=False,
        help_text="Ask about the arm",
    )
    FollowUpCallFactory(script_version=source)

    draft = script_version_duplicate(version=source, by=admin_user)

    assert (draft.script, draft.number, draft.status, draft.notes) == (
        script,
        3,
        Status.DRAFT,
        "Copied from version 2.",
    )

    def content(version):
        return (
            list(version.talking_points.values_list("phase", "order", "text", "guidance")),
            list(
                version.questions.values_list(
                    "order", "text", "help_text", "kind", "choices", "required", "red_flag_answers"
                )
            ),
        )

    assert content(draft) == content(source)
    assert set(draft.talking_points.values_list("pk", flat=True)).isdisjoint(
        source.talking_points.values_list("pk", flat=True)
    )
    assert script_version_is_locked(draft) is False
    draft.questions.update(text="Changed")
    assert source.questions.filter(text="Changed").count() == 0
