"""The admin's inbox of received HL7 messages and FHIR bundles, with a
reprocess action, and the ward mapping. Messages are never deleted."""

from django.contrib import admin, messages
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from followup import access
from followup.access import AdminScopeMixin

from .models import InboundMessage, WardMapping
from .services import inbound_messages_reprocess


@admin.register(InboundMessage)
class InboundMessageAdmin(AdminScopeMixin, admin.ModelAdmin):
    scope = access.visible_inbound_messages
    list_display = ("received_at", "kind", "event_type", "sender", "control_id", "status", "short_error", "discharge")
    list_filter = ("status", "kind", "event_type", "received_at")
    search_fields = ("control_id", "sender", "error", "discharge__patient__mrn", "discharge__patient__name")
    list_select_related = ("discharge__patient", "discharge__department")
    date_hierarchy = "received_at"
    list_per_page = 50
    actions = ["reprocess"]
    readonly_fields = (
        "kind",
        "sender",
        "control_id",
        "event_type",
        "received_at",
        "status",
        "error",
        "warnings",
        "discharge",
        "processed_at",
        "payload",
    )
    fields = readonly_fields

    @admin.display(description=_("error"))
    def short_error(self, obj: InboundMessage) -> str:
        return Truncator(obj.error).chars(80)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Reprocess the selected messages (those in error or ignored)"), permissions=["change"])
    def reprocess(self, request, queryset):
        counts = inbound_messages_reprocess(messages=queryset, by=request.user)
        total = sum(counts.values())
        if not total:
            self.message_user(request, _("No selected message was in error or ignored."), messages.WARNING)
            return
        summary = ", ".join(f"{InboundMessage.Status(status).label}: {n}" for status, n in sorted(counts.items()))
        self.message_user(
            request,
            ngettext(
                "%(count)d message reprocessed (%(summary)s).", "%(count)d messages reprocessed (%(summary)s).", total
            )
            % {"count": total, "summary": summary},
            messages.ERROR if counts.get(InboundMessage.Status.ERROR) else messages.SUCCESS,
        )


@admin.register(WardMapping)
class WardMappingAdmin(admin.ModelAdmin):
    list_display = ("kind", "code", "sender", "department")
    list_filter = ("kind", "department")
    search_fields = ("code", "sender", "department__name", "department__code")
    list_select_related = ("department",)
