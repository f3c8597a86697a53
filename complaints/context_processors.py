from followup.roles import Role, has_role

from .selectors import unread_notification_count


def notifications(request) -> dict:
    """The unread notification count shown in the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if not (user.is_superuser or has_role(user, Role.COMPLAINT_OFFICER, Role.HEAD_NURSE, Role.NURSE)):
        return {}
    return {"unread_notifications": unread_notification_count(user)}
