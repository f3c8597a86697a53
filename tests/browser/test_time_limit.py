"""Every browser test has a time limit (tests/browser/conftest.py), so a
hung page fails its test instead of stalling the whole run."""

import pytest

from tests.browser.conftest import BROWSER_TEST_SECONDS

pytestmark = pytest.mark.browser


def test_a_browser_test_runs_under_the_time_limit(request):
    marker = request.node.get_closest_marker("timeout")

    assert marker is not None and marker.args == (BROWSER_TEST_SECONDS,)


def test_tests_outside_the_browser_folder_have_no_such_limit(request):
    # the limit is given by path: this file's neighbours get it, nothing else
    assert all(
        (item.get_closest_marker("timeout") is not None) == ("tests/browser/" in item.nodeid)
        for item in request.session.items
    )
