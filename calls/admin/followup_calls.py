"""Admin of calls, attempts, clinical alerts and spot checks: read-mostly.
Calls change through the call screen's services (optimistic locking, alerts,
cancellations), so the admin shows them and never deletes anything."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from followup import access
from followup.access import AdminScopeMixin

from ..models import CallAnswer, CallAttempt, ClinicalAlert, FollowUpCall, ItemScore, SpotCheck
from ..services.records import CALL_CORRECTABLE, call_correct, call_correct_problems


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
    fields = ["started_at", "nurse", "result", "dialled", "dialled_number", "callback_at", "callback_asked_by", "note"]


class CallAnswerInline(ReadOnlyInline):
    model = CallAnswer
    fields = ["question", "value", "is_red_flag"]


class ItemScoreInline(ReadOnlyInline):
    model = ItemScore
    fields = ["item", "score"]


class FollowUpCallAdminForm(forms.ModelForm):
    """Carries the version the admin opened, and refuses what call_correct
    would refuse, so the admin shows it on the form."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = FollowUpCall
        fields = "__all__"  # noqa: DJ007 - the admin passes its own field list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["expected_version"] = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.instance.pk:
            return cleaned
        changes = {name: cleaned[name] for name in self.changed_data if name in CALL_CORRECTABLE}
        stored = FollowUpCall.objects.select_related("discharge__department").get(pk=self.instance.pk)
        for problem in call_correct_problems(
            call=stored, changes=changes, expected_version=cleaned.get("expected_version")
        ):
            self.add_error(None, problem)
        return cleaned


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
        "callback_at",
        "answered_by",
        "family_member_relation",
        "family_member_name",
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

    form = FollowUpCallAdminForm

    def has_add_permission(self, request) -> bool:
        return False  # calls are generated from the rules, never typed in

    def save_model(self, request, obj: FollowUpCall, form, change) -> None:
        """Dates and the nurse are corrected through call_correct: the nurse
        must work in the ward, and a nurse who has the call open is told."""
        stored = FollowUpCall.objects.select_related("discharge__department").get(pk=obj.pk)
        changes = {name: getattr(obj, name) for name in form.changed_data if name in CALL_CORRECTABLE}
        call_correct(
            call=stored, changes=changes, by=request.user, expected_version=form.cleaned_data["expected_version"]
        )

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

    list_display = ["call", "started_at", "nurse", "result", "dialled"]
    list_filter = ["result", "dialled", "call__discharge__department"]
    search_fields = ["call__discharge__patient__name", "call__discharge__patient__mrn", "note"]
    list_select_related = ["call__discharge__patient", "nurse"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "call",
        "nurse",
        "started_at",
        "result",
        "dialled",
        "dialled_number",
        "callback_at",
        "callback_asked_by",
        "note",
    ]

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
