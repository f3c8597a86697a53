from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Follow-up desk"), {"fields": ("display_name", "grade", "phone")}),
    )
    list_display = ("username", "display_name", "grade", "is_active", "last_login")
    list_filter = ("groups", "grade", "is_active", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Searchable, read-only: nobody edits or deletes the audit trail."""

    list_display = ("at", "actor_name", "action", "object_type", "object_id", "url_name", "ip_address")
    list_filter = ("action", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_name", "object_id", "path", "ip_address")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
