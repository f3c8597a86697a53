"""The desk's users in the admin: their roles (groups) and their wards.

It lives in the calls app because a user's wards are ``calls.Department``
memberships; the User model itself is followup's. Nobody grants more than
they hold (followup.roles.may_manage_user)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change
from followup.models import User
from followup.roles import ROLES_ADMIN_MANAGES, ROLES_NEEDING_ADMIN_SITE, may_manage_user

from ..models import Department

# Fields only a superuser sees or sets on a user.
SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "user_permissions")


class _DeskUserFormMixin(forms.Form):
    """The ward memberships (calls.Department.staff) on the user's own form,
    and the refusal of fields the editing user may not set."""

    departments = forms.ModelMultipleChoiceField(
        label=_("departments"),
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple(_("departments"), is_stacked=False),
    )
    # Set by UserAdmin.get_form for an editor who is not a superuser.
    refused_keys: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "departments" in self.fields:
            self.fields["departments"].initial = list(self.instance.departments.values_list("pk", flat=True))

    def clean(self):
        cleaned = super().clean()
        # A browser never sends these (the fields are not on the page): a
        # request that does is forged, and nothing of it is saved.
        if any(key in self.data for key in self.refused_keys):
            raise ValidationError(
                _("Only a superuser may change superuser or staff status or give permissions."),
                code="superuser_only",
            )
        return cleaned


class DeskUserChangeForm(_DeskUserFormMixin, UserChangeForm):
    pass


class DeskUserCreationForm(_DeskUserFormMixin, AdminUserCreationForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users, their roles (groups) and their departments.

    Nobody grants more than they hold:

    - A superuser edits everything, including superuser and staff status,
      every group and permissions of the user's own.
    - An administrator who is not a superuser (the ``admin`` role) creates,
      edits, deactivates and resets the password of nurses, head nurses and
      complaint officers (``ROLES_ADMIN_MANAGES``), and sets their roles
      among those three and their departments. The superuser, staff and
      permission fields are not on their form, and a POST that carries them
      anyway is refused whole. Users outside that set (superusers, staff,
      other administrators, themself, anybody with a permission or group of
      their own) are read-only to them (``roles.may_manage_user``), which
      also closes the password page.
    - ``is_staff`` (entry to the admin site) follows the role: a user given a
      role that works in the admin site (``ROLES_NEEDING_ADMIN_SITE``, the
      admin role) gets it on save; users an administrator creates never have
      it. A superuser may still tick it by hand, e.g. for an auditor given
      ``followup.view_auditevent`` alone.
    - Every save of a user is written to the audit trail (``_audit_user_saved``).
    """

    form = DeskUserChangeForm
    add_form = DeskUserCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Follow-up desk"), {"fields": ("display_name", "grade", "phone")}),
        (
            _("Roles and departments"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "departments", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Follow-up desk"), {"fields": ("display_name", "grade", "phone")}),
        (_("Roles and departments"), {"fields": ("groups", "departments")}),
    )
    list_display = ("username", "display_name", "grade", "is_active", "last_login")
    list_filter = ("groups", "grade", "is_active", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = () if request.user.is_superuser else SUPERUSER_ONLY_FIELDS
        # A read-only page shows the departments as text ("departments" is
        # a form field, not one of the model's).
        read_only = obj is not None and not self.has_change_permission(request, obj)
        return tuple(
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "department_names" if (f == "departments" and read_only) else f
                        for f in options["fields"]
                        if f not in hidden
                    ),
                },
            )
            for name, options in fieldsets
        )

    @admin.display(description=_("departments"))
    def department_names(self, obj) -> str:
        return ", ".join(str(d) for d in obj.departments.order_by("name"))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, "last_login", "date_joined")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser:
            form = type(form.__name__, (form,), {"refused_keys": SUPERUSER_ONLY_FIELDS})
        return form

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=[str(r) for r in ROLES_ADMIN_MANAGES])
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return may_manage_user(request.user, obj)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            # Unreachable through the form (the fields are absent and a POST
            # carrying them is refused); kept so no other path slips through.
            if change and not may_manage_user(request.user, User.objects.get(pk=obj.pk)):
                raise PermissionDenied
            if not change:
                obj.is_staff = obj.is_superuser = False
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        user = form.instance
        groups = form.cleaned_data.get("groups")
        if groups is not None and not request.user.is_superuser:
            managed = {str(r) for r in ROLES_ADMIN_MANAGES}
            if any(group.name not in managed for group in groups):
                raise PermissionDenied
        super().save_related(request, form, formsets, change)
        if "departments" in form.cleaned_data:
            user.departments.set(form.cleaned_data["departments"])
        needs_site = user.groups.filter(name__in=[str(r) for r in ROLES_NEEDING_ADMIN_SITE]).exists()
        if needs_site and not user.is_staff:
            user.is_staff = True
            User.objects.filter(pk=user.pk).update(is_staff=True)
        self._audit_user_saved(request, user, form.changed_data or ["created"])

    def _audit_user_saved(self, request, user, fields) -> None:
        """The one place a user's change in the admin reaches the audit trail,
        with the names of the fields changed (roles and flags included)."""
        audit_change(actor=request.user, object_type="user", object_id=user.pk, fields=fields)
