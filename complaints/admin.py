from django import forms
from django.contrib import admin

from followup import access
from followup.access import AdminScopeMixin
from followup.dates import check_date

from .models import (
    Category,
    ChannelResponseTarget,
    Complaint,
    ComplaintEvent,
    Holiday,
    Promise,
    ResolutionMeasure,
    SlaPolicy,
    WorkingCalendar,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh", "order", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["code", "name_en", "name_zh"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "severity",
        "first_response_value",
        "first_response_unit",
        "resolution_value",
        "resolution_unit",
        "reply_days",
        "reply_days_coordinated",
    ]


@admin.register(ChannelResponseTarget)
class ChannelResponseTargetAdmin(admin.ModelAdmin):
    list_display = ["channel", "first_response_value", "first_response_unit"]


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "weekdays", "start_time", "end_time", "national_holidays"]


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = "__all__"  # noqa: DJ007 - the admin passes its own field list

    def clean_date(self):
        day = self.cleaned_data["date"]
        check_date(day, future=True)
        return day


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    form = HolidayForm
    list_display = ["date", "name", "is_working_day"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Complaints change only through the app's services; the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = ComplaintEvent
    fields = ["at", "kind", "from_status", "to_status", "by", "text", "file_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MeasureInline(admin.TabularInline):
    model = ResolutionMeasure
    fields = ["kind", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(AdminScopeMixin, ReadOnlyAdmin):
    scope = access.visible_complaints
    list_display = ["reference", "received_at", "channel", "category", "severity", "status", "is_dispute", "owner"]
    list_filter = ["status", "severity", "channel", "category", "is_dispute"]
    search_fields = ["reference", "complainant_name", "description"]
    inlines = [MeasureInline, EventInline]


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(AdminScopeMixin, ReadOnlyAdmin):
    def scope(user):
        return ComplaintEvent.objects.filter(complaint__in=access.visible_complaints(user))

    list_display = ["complaint", "at", "kind", "by"]
    list_filter = ["kind"]


@admin.register(Promise)
class PromiseAdmin(AdminScopeMixin, ReadOnlyAdmin):
    def scope(user):
        return Promise.objects.filter(complaint__in=access.visible_complaints(user))

    list_display = ["complaint", "what", "owner", "due_on", "delivered_on"]
