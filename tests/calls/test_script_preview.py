import pytest
from django.urls import reverse
from django.utils.html import escape

from calls.models import Question, TalkingPoint
from tests.factories import QuestionFactory, TalkingPointFactory, publishable_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    version = publishable_version()
    TalkingPointFactory(
        version=version,
        phase=TalkingPoint.Phase.PREPARATION,
        text="Read the discharge record",
        guidance="Note the patient's education level",
    )
    QuestionFactory(version=version, kind=Question.Kind.SCORE, text="How would you score the nurses' attitude?")
    return version


def preview_url(version) -> str:
    return reverse("calls:script_preview", args=[version.pk])


@pytest.mark.parametrize("user", ["admin_user", "head_nurse"])
def test_preview_shows_every_phase_point_guidance_and_question(client_for, request, version, user):
    response = client_for(request.getfixturevalue(user)).get(preview_url(version))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "calls/script_preview.html"
    assert "calls/includes/_script.html" in [t.name for t in response.templates]
    for point in version.talking_points.all():
        assert escape(point.text) in html
        assert escape(point.guidance) in html
    for heading in ("Preparation", "Opening", "Main follow-up", "Closing"):
        assert f"{heading}</h2>" in html
    assert "Any chest pain at rest?" in html
    assert escape("How would you score the nurses' attitude?") in html
    for question in version.questions.all():
        assert f'name="q_{question.pk}"' in html


def test_preview_renders_exactly_the_nurse_partial(client_for, admin_user, version):
    from django.template.loader import render_to_string

    from calls.forms.script_answers import CallAnswersForm
    from calls.selectors.scripts import script_render

    script = script_render(version=version)
    partial = render_to_string(
        "calls/includes/_script.html", {"script": script, "answers_form": CallAnswersForm(questions=script.questions)}
    )
    html = client_for(admin_user).get(preview_url(version)).content.decode()
    assert partial.strip() in html


@pytest.mark.parametrize("user", ["nurse", "officer", "no_role_user"])
def test_preview_is_refused_to_other_roles(client_for, request, version, user):
    response = client_for(request.getfixturevalue(user)).get(preview_url(version))
    assert response.status_code == 403


def test_preview_asks_an_anonymous_visitor_to_log_in(client, version):
    response = client.get(preview_url(version))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_preview_of_an_unknown_version_is_404(client_for, admin_user):
    assert client_for(admin_user).get(reverse("calls:script_preview", args=[999999])).status_code == 404


def test_preview_costs_the_same_queries_for_small_and_large_scripts(client_for, admin_user, django_assert_num_queries):
    small = publishable_version()
    large = publishable_version()
    for phase in TalkingPoint.Phase.values:
        TalkingPointFactory.create_batch(5, version=large, phase=phase)
    QuestionFactory.create_batch(6, version=large)
    client = client_for(admin_user)
    client.get(preview_url(small))  # warm the session and caches

    with django_assert_num_queries(14) as small_queries:  # includes the audit trail insert
        client.get(preview_url(small))
    with django_assert_num_queries(len(small_queries.captured_queries)):
        client.get(preview_url(large))
