"""A call script imported with htmx markup in a question's hint and in a
talking point once made the nurse's browser record a "no answer" dial each
time she opened the call. In Chromium, with the CSP enforced: the markup is
shown as text, no request goes out, no attempt is recorded. And markup that
slipped into the page anyway (inserted into the DOM here) is ignored by htmx
inside the content area (hx-disable), while the same markup in the
navigation does make its request (so the listener would have seen one)."""

import re

import pytest
from django.urls import reverse

from calls.models import CallAttempt
from calls.services.scripts import script_version_export, script_version_import, script_version_publish
from followup.roles import Role
from tests.browser.helpers import log_in, open_call
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HINT_ATTACK = (
    '<i hx-post="attempt/" hx-trigger=load hx-include="[name=attempt-expected_version]" '
    """hx-vals='{"attempt-result":"no_answer"}'>"""
)
POINT_ATTACK = '<i hx-get="attempt/" hx-trigger=load>Say hello'


@pytest.fixture
def hostile_script(desk):
    """The ward's script exported, the attack put into the file, imported and
    published as a new version (as an administrator would in the admin)."""
    admin = UserFactory(username="root", roles=[Role.ADMIN])
    version = desk["chest"].version
    data = script_version_export(version=version)
    data["version"]["number"] = None
    data["questions"][0]["help_text"] = HINT_ATTACK
    data["talking_points"][0]["text"] = POINT_ATTACK
    data["talking_points"].append({**data["talking_points"][0], "phase": "closing", "text": "Take care."})
    draft = script_version_import(data=data, by=admin, script=version.script)
    return script_version_publish(version=draft, by=admin)


def watch_requests(page) -> list[tuple[str, str]]:
    seen = []
    page.on("request", lambda request: seen.append((request.method, request.url)))
    return seen


def to_attempt(seen) -> list[tuple[str, str]]:
    return [(method, url) for method, url in seen if re.search(r"/calls/\d+/attempt/", url)]


def test_imported_hint_and_point_markup_is_text_and_makes_no_request(page, desk, hostile_script):
    log_in(page, "lina")
    seen = watch_requests(page)
    open_call(page)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)

    assert to_attempt(seen) == []
    assert CallAttempt.objects.count() == 0
    assert page.locator(".call-script").get_attribute("data-script-version") == str(hostile_script.pk)
    assert page.get_by_text(HINT_ATTACK, exact=True).is_visible() is True
    assert page.get_by_text(POINT_ATTACK, exact=True).is_visible() is True
    assert page.locator(".call-script i[hx-post], .call-script i[hx-get]").count() == 0


def test_markup_that_slipped_into_the_content_is_ignored_by_htmx(page, desk, hostile_script):
    log_in(page, "lina")
    open_call(page)
    page.wait_for_load_state("networkidle")
    seen = watch_requests(page)
    badge = reverse("complaints:notification_badge")

    # As if escaping had failed: raw attack markup in the script, in the
    # content area in general, and (the control) in the navigation.
    page.evaluate(
        """([attack, badge]) => {
            const script = document.querySelector(".call-script");
            script.insertAdjacentHTML("beforeend", attack);
            htmx.process(script);
            const main = document.querySelector("main");
            main.insertAdjacentHTML("beforeend", attack.replace("<i ", "<i id='in-main' "));
            htmx.process(main);
            const nav = document.querySelector("nav");
            nav.insertAdjacentHTML("beforeend", `<i id="control" hx-get="${badge}" hx-trigger="load"></i>`);
            htmx.process(nav);
        }""",
        [HINT_ATTACK, badge],
    )
    page.wait_for_timeout(1500)

    assert to_attempt(seen) == []
    assert CallAttempt.objects.count() == 0
    assert [(method, url.removeprefix(page.url.split("/calls/")[0])) for method, url in seen] == [("GET", badge)]
