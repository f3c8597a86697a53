"""The admin's inbox of received HL7 messages and FHIR bundles, with a
reprocess action; the ward mapping; the sending systems (their patient
classes and FHIR tokens). Messages are never deleted."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from followup import access
from followup.access import AdminScopeMixin

from .models import FeedSender, InboundMessage, Kind, WardMapping
from .services import feed_sender_issue_token, inbound_messages_reprocess


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


@admin.register(FeedSender)
class FeedSenderAdmin(admin.ModelAdmin):
    """A FHIR sending system gets its token when it is added and a new one
    from the "Issue a new token" action; the token is shown on that one
    page and never again (only its hash is kept)."""

    list_display = ("kind", "name", "discharge_classes", "active", "token_hint", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    fields = ("kind", "name", "discharge_classes", "active", "token_hint")
    readonly_fields = ("token_hint",)
    actions = ["issue_token"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # switch a sender off instead: its messages keep its name

    def response_add(self, request, obj, post_url_continue=None):
        if obj.kind == Kind.FHIR:
            return self._show_tokens(request, [(obj, feed_sender_issue_token(sender=obj, by=request.user))])
        return super().response_add(request, obj, post_url_continue)

    @admin.action(
        description=_("Issue a new token (FHIR senders; the old token stops working)"), permissions=["change"]
    )
    def issue_token(self, request, queryset):
        senders = list(queryset.filter(kind=Kind.FHIR).order_by("name"))
        if not senders:
            self.message_user(request, _("Only FHIR senders have tokens."), messages.WARNING)
            return None
        return self._show_tokens(request, [(s, feed_sender_issue_token(sender=s, by=request.user)) for s in senders])

    def _show_tokens(self, request, issued):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("New tokens"),
            "issued": issued,
        }
        response = TemplateResponse(request, "admin/interop/feedsender/tokens.html", context)
        response["Cache-Control"] = "no-store"
        return response
