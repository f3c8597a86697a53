"""What a user does in the browser more than once: log in and out, open a call."""

import re

from tests.factories import TEST_PASSWORD


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    # By field name, not label: the same steps serve the Chinese pages.
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("main").get_by_role("button").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def log_out(page) -> None:
    """Log out sits in the menu under the user's name."""
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def open_call(page, name: str = "Zhou Min") -> None:
    page.goto("/calls/")
    page.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(r"/calls/\d+/$"))
