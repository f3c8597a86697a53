from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_sends_the_browser_to_the_desk_icon_without_a_log_in(client, db):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, static("img/favicon.svg"))
    assert finders.find("img/favicon.svg") is not None


def test_every_page_names_the_icon(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert f'<link rel="icon" href="{static("img/favicon.svg")}" type="image/svg+xml">' in page
