"""The read queries of in-app notifications.

One model (``followup.models.Notification``), one writer
(``followup.services.notify``), one list in the top bar (served by the
complaints app's pages, where it began). A notification is stored with its
message key and values and rendered when read (``followup.messages``), so a
Chinese-speaking nurse reads in Chinese what an English-speaking head
nurse's action caused, and the reverse. A user reads only her own.
"""

from django.db.models import QuerySet
from django.http import Http404

from .models import Notification, User


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_notification_count(user: User) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def notification_for(user: User, pk: int) -> Notification:
    """One of the user's own notifications, or 404 (anyone else's is as if it did not exist)."""
    found = notifications_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
