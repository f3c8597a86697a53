"""The audit trail in the admin (the desk's users are in calls/admin/users.py,
beside the wards they belong to)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .audit import audit_patient_ids
from .models import AuditEvent, Notification


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Searchable, read-only: nobody edits or deletes the audit trail (and the
    database refuses it). The search box also finds a patient's rows by the
    patient's id or MRN; ``?patient_id=12`` in the address lists exactly them."""

    list_display = (
        "at",
        "actor_name",
        "source",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "fields",
        "url_name",
        "status_code",
        "ip_address",
    )
    list_filter = ("action", "source", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_name", "object_id", "path", "ip_address")
    search_help_text = _("Who (user name or feed), object id, address, or a patient's id or MRN.")
    date_hierarchy = "at"
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        search_term = search_term.replace("\x00", "")  # PostgreSQL refuses NUL in a parameter
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            found |= queryset.filter(patient_id__in=audit_patient_ids(term))
        return found, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by followup.services.notify and
    marked read by their recipient."""

    list_display = ("recipient", "text", "created_at", "read_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
