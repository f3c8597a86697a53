from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role, roles_of
from .sessions import pop_typing_sent

# (label, url name, roles that see the link)
NAVIGATION = [
    (_("Call worklist"), "calls:worklist", {Role.NURSE, Role.HEAD_NURSE}),
    (_("Discharges"), "calls:discharge_list", {Role.NURSE, Role.HEAD_NURSE}),
    (_("Clinical alerts"), "calls:alerts", {Role.HEAD_NURSE}),
    (_("Dashboard"), "calls:dashboard", {Role.HEAD_NURSE}),
    (_("Spot checks"), "calls:spot_checks", {Role.HEAD_NURSE}),
    (_("Complaints"), "complaints:list", {Role.COMPLAINT_OFFICER, Role.HEAD_NURSE, Role.NURSE}),
    (_("Administration"), "admin:index", {Role.ADMIN}),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    held = roles_of(user)
    path = request.path
    items = []
    for label, url_name, roles in NAVIGATION:
        if held & roles or (user.is_superuser and url_name == "admin:index"):
            items.append({"label": label, "url": reverse(url_name), "active": False})
    # The longest matching link is the current one (/calls/discharges/ is not the worklist at /calls/).
    matching = [item for item in items if path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "nav_items": items,
        "user_roles": held,
        "session_timeout": settings.SESSION_COOKIE_AGE,
        # Typing the last request sent and had accepted: the browser drops its copy (call-draft.js).
        "typing_sent": pop_typing_sent(request),
    }
