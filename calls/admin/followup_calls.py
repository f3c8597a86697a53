"""Admin of calls, attempts, clinical alerts and spot checks: read-mostly.
Calls change through the call screen's services (optimistic locking, alerts,
cancellations), so the admin shows them and never deletes anything."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from followup import access
from followup.access import AdminScopeMixin

from ..models import CallAnswer, CallAttempt, ClinicalAlert, FollowUpCall, ItemScore, SpotCheck


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class CallAttemptInline(ReadOnlyInline):
    model = CallAttempt
    fields = ["started_at", "nurse", "result", "note"]


class CallAnswerInline(ReadOnlyInline):
    model = CallAnswer
    fields = ["question", "value", "is_red_flag"]


class ItemScoreInline(ReadOnlyInline):
    model = ItemScore
    fields = ["item", "score"]


@admin.register(FollowUpCall)
class FollowUpCallAdmin(AdminScopeMixin, NoDeleteAdmin):
    def scope(user):
        return access.visible_calls(user, include_deceased=True)

    list_display = ["pk", "patient", "department", "step", "due_date", "status", "assigned_to", "attempt_count"]
    list_filter = ["status", "discharge__department", "satisfaction", "answered_by", "due_date"]
    search_fields = ["discharge__patient__name", "discharge__patient__mrn", "discharge__patient__phone"]
    list_select_related = ["discharge__patient", "discharge__department", "step", "assigned_to"]
    date_hierarchy = "due_date"
    raw_id_fields = ["assigned_to"]
    readonly_fields = [
        "discharge",
        "step",
        "booked_from",
        "status",
        "cancel_reason",
        "script_version",
        "attempt_count",
        "answered_by",
        "satisfaction",
        "summary",
        "next_call_on",
        "completed_at",
        "completed_by",
        "duration_seconds",
        "version",
        "changed_by",
        "created_at",
        "updated_at",
    ]
    inlines = [CallAttemptInline, CallAnswerInline, ItemScoreInline]

    def save_model(self, request, obj: FollowUpCall, form, change) -> None:
        # Dates and the nurse may be corrected here; bump the version so a
        # nurse who has the call open is told, as with every other change.
        if change:
            obj.version += 1
            obj.changed_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("patient"), ordering="discharge__patient__name")
    def patient(self, obj: FollowUpCall):
        return obj.discharge.patient

    @admin.display(description=_("department"), ordering="discharge__department__name")
    def department(self, obj: FollowUpCall):
        return obj.discharge.department


@admin.register(CallAttempt)
class CallAttemptAdmin(AdminScopeMixin, NoDeleteAdmin):
    def scope(user):
        return CallAttempt.objects.filter(call__in=access.visible_calls(user, include_deceased=True))

    list_display = ["call", "started_at", "nurse", "result"]
    list_filter = ["result", "call__discharge__department"]
    search_fields = ["call__discharge__patient__name", "call__discharge__patient__mrn", "note"]
    list_select_related = ["call__discharge__patient", "nurse"]
    date_hierarchy = "started_at"
    readonly_fields = ["call", "nurse", "started_at", "result", "note"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ClinicalAlert)
class ClinicalAlertAdmin(AdminScopeMixin, NoDeleteAdmin):
    scope = access.visible_alerts
    list_display = ["call", "raised_at", "due_at", "action", "resolved_at", "resolved_by"]
    list_filter = ["action", ("resolved_at", admin.EmptyFieldListFilter), "call__discharge__department"]
    search_fields = ["call__discharge__patient__name", "call__discharge__patient__mrn", "reason"]
    list_select_related = ["call__discharge__patient", "resolved_by"]
    date_hierarchy = "due_at"
    readonly_fields = ["call", "raised_at", "due_at", "reason", "action", "action_note", "resolved_at", "resolved_by"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SpotCheck)
class SpotCheckAdmin(AdminScopeMixin, NoDeleteAdmin):
    def scope(user):
        return SpotCheck.objects.filter(call__discharge__department__in=access.dashboard_departments(user))

    list_display = ["call", "week", "reviewer", "verdict", "reviewed_at"]
    list_filter = ["verdict", "week", "call__discharge__department"]
    search_fields = ["call__discharge__patient__name", "call__discharge__patient__mrn", "comment"]
    list_select_related = ["call__discharge__patient", "reviewer"]
    readonly_fields = ["call", "week", "sampled_at", "reviewer", "verdict", "comment", "reviewed_at"]

    def has_add_permission(self, request) -> bool:
        return False
