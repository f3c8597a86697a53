"""The audit trail: every view of a patient, call or complaint page, every
export and every change, with who, when and from which address.

Views and exports are recorded by AuditMiddleware for every page of the calls
and complaints apps (and their admin pages). A view may name the objects it
shows by setting ``request.audit_objects = [("patient", 12), ("call", 40)]``;
otherwise the URL's keyword arguments name them (``<int:pk>`` under the
``calls:call_...`` pages is a call, and so on). Log-ins are recorded from
Django's auth signals.
"""

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .models import AuditEvent
from .net import client_ip

AUDITED_NAMESPACES = {"calls", "complaints"}
AUDITED_ADMIN_APPS = ("/admin/calls/", "/admin/complaints/", "/admin/followup/")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Fragments that show no patient or complaint data (the unread-notification badge).
NOT_AUDITED_VIEWS = {"complaints:notification_badge"}


def audit_record(
    *,
    request: HttpRequest | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    user=None,
    status_code: int | None = None,
) -> AuditEvent:
    user = user if user is not None else getattr(request, "user", None)
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    match = getattr(request, "resolver_match", None)
    return AuditEvent.objects.create(
        actor=user if authenticated else None,
        actor_name=user.get_username() if authenticated else "",
        ip_address=client_ip(request) if request is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        url_name=(match.view_name if match else "")[:100],
        path=(request.get_full_path() if request is not None else "")[:500],
        method=(request.method or "") if request is not None else "",
        status_code=status_code,
    )


def _objects_of(request: HttpRequest) -> list[tuple[str, object]]:
    explicit = getattr(request, "audit_objects", None)
    if explicit:
        return list(explicit)
    match = request.resolver_match
    if not match.kwargs:
        return [("", "")]
    objects = []
    for key, value in match.kwargs.items():
        kind = key.removesuffix("_id").removesuffix("_pk")
        if kind == "pk":
            # calls:call_detail -> "call"; complaints:detail -> "complaint"
            kind = match.url_name.split("_")[0] if "_" in match.url_name else match.namespace.rstrip("s")
        objects.append((kind, value))
    return objects


def _is_audited(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return False
    if match.view_name in NOT_AUDITED_VIEWS:
        return False
    return match.namespace in AUDITED_NAMESPACES or request.path.startswith(AUDITED_ADMIN_APPS)


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_audited(request) and response.status_code < 400:
            if request.method in WRITE_METHODS:
                action = AuditEvent.Action.CHANGE
            elif "attachment" in response.get("Content-Disposition", ""):
                action = AuditEvent.Action.EXPORT
            else:
                action = AuditEvent.Action.VIEW
            for object_type, object_id in _objects_of(request):
                audit_record(
                    request=request,
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    status_code=response.status_code,
                )
        return response


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(request=request, action=AuditEvent.Action.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(request=request, action=AuditEvent.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    event = audit_record(request=request, action=AuditEvent.Action.LOGIN_FAILED, user=None)
    AuditEvent.objects.filter(pk=event.pk).update(actor_name=str(credentials.get("username", ""))[:150])


def audit_events_for_patient(*, patient_id: int, call_ids: list[int]):
    """Who opened this patient's record or any of their calls, newest first."""
    from django.db.models import Q

    return AuditEvent.objects.filter(
        Q(object_type="patient", object_id=str(patient_id))
        | Q(object_type="call", object_id__in=[str(pk) for pk in call_ids])
    ).order_by("-at", "-pk")
