"""Writes of the followup app itself: in-app notifications (who is told
what, and that she has read it). The changes to patient data live in the
calls, complaints and interop services."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from .messages import render_message
from .models import Notification, User

TEXT_LENGTH = Notification._meta.get_field("text").max_length


def _is_local_path(link: str) -> bool:
    """A path of this site ("/calls/4/"), never another site's address."""
    return not link or (link.startswith("/") and not link.startswith("//") and "\\" not in link and link.isprintable())


@transaction.atomic
def notify(
    *,
    users: Iterable[User],
    link: str,
    text: str = "",
    message_key: str = "",
    message_params: dict | None = None,
    email: bool = True,
) -> list[Notification]:
    """One in-app notification for each active user of ``users``, plus,
    with ``email``, an e-mail to those who have an address, sent after the
    transaction commits (its link made absolute with SITE_URL).

    With ``message_key`` (a key registered in followup.notifications) the
    text is rendered in each reader's language when shown, and stored in the
    hospital's language (LANGUAGE_CODE) for the admin and the e-mail;
    ``text`` is for a message that has no key."""
    if not _is_local_path(link):
        raise ValueError(f"a notification links to a path of this site, not {link!r}")
    params = dict(message_params or {})
    if message_key:
        with translation.override(settings.LANGUAGE_CODE):
            rendered = render_message(message_key, params)
        if rendered is None:
            raise ValueError(f"unknown notification message {message_key!r} or missing values")
        text = rendered
    text = " ".join(text.split())
    if len(text) > TEXT_LENGTH:
        text = text[: TEXT_LENGTH - 1] + "…"
    recipients = [user for user in users if user is not None and user.is_active]
    created = Notification.objects.bulk_create(
        [
            Notification(recipient=user, text=text, link=link, message_key=message_key, message_params=params)
            for user in recipients
        ]
    )
    emails = [user.email for user in recipients if user.email] if email else []
    if emails:
        body = f"{text}\n{settings.SITE_URL}{link}" if link else text
        transaction.on_commit(lambda: send_mail(text, body, None, emails, fail_silently=True))
    return created


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications (those of ``ids`` when given) read; returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def notification_open(*, notification: Notification) -> str:
    """She opens a notification: it is read from now on. Returns where it leads."""
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    return notification.link if _is_local_path(notification.link) else ""
