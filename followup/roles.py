"""Roles are Django groups with permissions. This module is the one place that
says which roles exist, what each may do, and where each lands after log-in.

Department scope (a nurse sees only her departments' patients) is applied on
top of these permissions by the selectors of each app.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NURSE = "nurse", _("Nurse")
    HEAD_NURSE = "head_nurse", _("Head nurse")
    COMPLAINT_OFFICER = "complaint_officer", _("Complaint officer")
    ADMIN = "admin", _("Administrator")


# "app_label.codename" for every permission a role holds. sync_roles() gives
# each role group exactly these after every migrate (followup.sync).
def _perms(app_label: str, model: str, *actions: str) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions]


_NURSE = [
    *_perms("calls", "patient", "view", "add", "change"),
    *_perms("calls", "discharge", "view", "add", "change"),
    *_perms("calls", "followupcall", "view", "change"),
    *_perms("calls", "callattempt", "view", "add"),
    *_perms("calls", "callanswer", "view", "add"),
    *_perms("calls", "itemscore", "view", "add"),
    *_perms("calls", "clinicalalert", "view"),
    *_perms("calls", "callscript", "view"),
    *_perms("calls", "scriptversion", "view"),
    *_perms("calls", "department", "view"),
]

_CONFIGURATION = [
    *_perms("calls", "department", "view", "add", "change"),
    *_perms("calls", "followuprule", "view", "add", "change"),
    *_perms("calls", "rulestep", "view", "add", "change", "delete"),
    *_perms("calls", "callscript", "view", "add", "change"),
    *_perms("calls", "scriptversion", "view", "add", "change"),
    *_perms("calls", "talkingpoint", "view", "add", "change", "delete"),
    *_perms("calls", "question", "view", "add", "change", "delete"),
    *_perms("calls", "satisfactionitem", "view", "add", "change"),
]

# Complaints: nurses record them and add notes and evidence; head nurses also
# handle their wards' complaints; the officer handles all (no deletes: the
# timeline is append-only); the admin configures categories and the SLA clock.
_COMPLAINTS_NURSE = [
    *_perms("complaints", "complaint", "view", "add"),
    *_perms("complaints", "complaintevent", "view", "add"),
    *_perms("complaints", "promise", "view"),
    *_perms("complaints", "category", "view"),
]
_COMPLAINTS_HANDLER = [
    *_COMPLAINTS_NURSE,
    *_perms("complaints", "complaint", "change"),
    *_perms("complaints", "promise", "add", "change"),
    "complaints.view_complaint_report",
]
_COMPLAINTS_CONFIGURATION = [
    *_perms("complaints", "category", "view", "add", "change"),
    *_perms("complaints", "slapolicy", "view", "add", "change"),
    *_perms("complaints", "workingcalendar", "view", "add", "change"),
    *_perms("complaints", "holiday", "view", "add", "change", "delete"),
    *_perms("complaints", "channelresponsetarget", "view", "add", "change", "delete"),
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.NURSE: [*_NURSE, *_COMPLAINTS_NURSE],
    Role.HEAD_NURSE: [
        *_NURSE,
        *_COMPLAINTS_HANDLER,
        *_perms("calls", "clinicalalert", "change"),
        *_perms("calls", "spotcheck", "view", "change"),
    ],
    Role.COMPLAINT_OFFICER: [
        *_perms("calls", "patient", "view"),
        *_perms("calls", "department", "view"),
        *_COMPLAINTS_HANDLER,
        *_perms("complaints", "slapolicy", "view"),
        *_perms("complaints", "workingcalendar", "view"),
        *_perms("complaints", "holiday", "view"),
        *_perms("complaints", "channelresponsetarget", "view"),
    ],
    Role.ADMIN: [
        *_perms("followup", "user", "view", "add", "change"),
        "followup.view_auditevent",
        "auth.view_group",
        *_perms("django_celery_beat", "periodictask", "view", "add", "change", "delete"),
        *_perms("django_celery_beat", "crontabschedule", "view", "add", "change"),
        *_perms("django_celery_beat", "intervalschedule", "view", "add", "change"),
        *_CONFIGURATION,
        *_COMPLAINTS_CONFIGURATION,
        *_perms("calls", "patient", "view", "add", "change"),
        *_perms("calls", "discharge", "view", "add", "change"),
        # Hospital system feeds: the inbox (view, reprocess) and the ward mapping; messages are never deleted.
        *_perms("interop", "inboundmessage", "view", "change"),
        *_perms("interop", "wardmapping", "view", "add", "change", "delete"),
        *_perms("interop", "feedsender", "view", "add", "change"),
    ],
}

# The roles an administrator who is not a superuser may give and take away.
# Granting the admin role itself, superuser or staff status, or permissions
# outside the roles stays with superusers (see calls.admin.users.UserAdmin).
ROLES_ADMIN_MANAGES: tuple[str, ...] = (Role.NURSE, Role.HEAD_NURSE, Role.COMPLAINT_OFFICER)

# The roles that work in the admin site, hence need ``is_staff``.
ROLES_NEEDING_ADMIN_SITE: tuple[str, ...] = (Role.ADMIN,)


def may_manage_user(actor, target) -> bool:
    """May ``actor`` edit ``target``'s account (roles, departments, password)?

    Superusers may edit anybody. Anybody else only a user who holds nothing
    beyond the roles an administrator manages: not themself, not a superuser,
    not staff, no permission of their own and no group outside those roles.
    Otherwise resetting that user's password would hand the actor more than
    they hold.
    """
    if actor.is_superuser:
        return True
    if target.pk is None:
        return True
    if target.pk == actor.pk or target.is_superuser or target.is_staff:
        return False
    if target.user_permissions.exists():
        return False
    return not target.groups.exclude(name__in=[str(r) for r in ROLES_ADMIN_MANAGES]).exists()


# Where each role lands after log-in, in order of precedence for a user who
# holds several roles.
ROLE_HOMES: list[tuple[str, str]] = [
    (Role.HEAD_NURSE, "calls:dashboard"),
    (Role.NURSE, "calls:worklist"),
    (Role.COMPLAINT_OFFICER, "complaints:list"),
    (Role.ADMIN, "admin:index"),
]


def sync_roles(apps, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and give each exactly its permissions.

    Run by followup.sync after every migrate, with the registry it passes.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips an app whose models_module is unset, as
        # it is on a migration's historical app configs; restore it after,
        # so the live registry is left as it was if that is what was given.
        before = getattr(app_config, "models_module", None)
        app_config.models_module = before or True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = before

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    existing = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=str(role))
        # A permission of a model the database does not have yet is left out.
        group.permissions.set([existing[dotted] for dotted in perms if dotted in existing])


def roles_of(user) -> frozenset[str]:
    """The role names a user holds, read once per request and cached."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_followup_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._followup_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def home_url_for(user) -> str | None:
    held = roles_of(user)
    for role, url_name in ROLE_HOMES:
        if role in held:
            return reverse(url_name)
    if user.is_superuser:
        return reverse("admin:index")
    return None


def role_required(*roles: str) -> Callable:
    """View decorator: the user must hold one of ``roles`` (superusers pass)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_superuser or has_role(request.user, *roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = tuple(roles)
        return wrapped

    return decorator
