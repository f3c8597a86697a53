"""Admin of call scripts (issue 4).

- CallScript: name, departments, diagnosis match, main language; its
  versions (each in one language) listed with links to edit and preview them.
- ScriptVersion: talking points and questions as inlines ordered by phase and
  order. A locked version (published, retired or used by a call) is shown
  read-only with a "Duplicate into a new draft" button. Buttons and actions
  publish, duplicate and export; an import page reads a JSON file. Publishing
  says who will see the version: the nurses of which UI languages, on how
  many rule steps (computed by the call screen's own choice).
- Export: one version downloads as ``<script>-v<number>.json``; several
  selected at once download as a zip holding one such file per version
  (each importable on its own).
"""

import io
import zipfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from followup.uploads import RefusedUploadsMixin, refused_uploads, upload_limit

from ..models import CallScript, Question, SatisfactionItem, ScriptVersion, TalkingPoint
from ..selectors.scripts import PHASE_ORDER, script_version_audience
from ..services.scripts import (
    CHOICE_KINDS,
    QUESTION_FIELDS,
    script_version_duplicate,
    script_version_export_json,
    script_version_import,
    script_version_is_locked,
    script_version_next_number,
    script_version_publish,
)


def _locked(request: HttpRequest, obj) -> bool:
    """Whether the version being edited is locked; cached on the request."""
    if obj is None or obj.pk is None:
        return False
    cache = request.__dict__.setdefault("_script_version_locked", {})
    if obj.pk not in cache:
        cache[obj.pk] = script_version_is_locked(obj)
    return cache[obj.pk]


class LinesField(forms.CharField):
    """A JSON list edited as one entry per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 24})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class QuestionForm(forms.ModelForm):
    choices = LinesField(label=_("choices"), required=False, help_text=_("One choice per line."))
    red_flag_answers = LinesField(
        label=_("red-flag answers"),
        required=False,
        help_text=_("One per line: “yes”/“no” for yes/no questions, a choice, or a score."),
    )

    class Meta:
        model = Question
        fields = QUESTION_FIELDS
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2, "cols": 40}),
            "patient_text": forms.Textarea(attrs={"rows": 2, "cols": 30}),
            "unit": forms.TextInput(attrs={"size": 6}),
            "min_value": forms.NumberInput(attrs={"step": "any"}),
            "max_value": forms.NumberInput(attrs={"step": "any"}),
        }

    def clean(self):
        data = super().clean()
        kind, choices, flags = data.get("kind"), data.get("choices") or [], data.get("red_flag_answers") or []
        if kind in CHOICE_KINDS:
            unknown = [flag for flag in flags if flag not in choices]
            if unknown:
                self.add_error(
                    "red_flag_answers",
                    _("Red-flag answers must be among the choices: %(answers)s is not.")
                    % {"answers": ", ".join(unknown)},
                )
        elif kind == Question.Kind.YES_NO and not set(flags) <= {"yes", "no"}:
            self.add_error("red_flag_answers", _("A yes/no question's red-flag answer is “yes” or “no”."))
        elif choices:
            self.add_error("choices", _("Only single and multiple choice questions have choices."))
        if kind != Question.Kind.NUMBER:
            for name in ("unit", "min_value", "max_value"):
                if data.get(name) not in (None, ""):
                    self.add_error(name, _("Only number questions have a unit and an allowed range."))
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", _("The highest allowed value must not be below the lowest."))
        return data


class LockableInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return not _locked(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _locked(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _locked(request, obj) and super().has_delete_permission(request, obj)


class TalkingPointInline(LockableInline):
    model = TalkingPoint
    fields = ["phase", "order", "text", "guidance"]

    def get_queryset(self, request):
        phase_rank = Case(
            *(When(phase=phase, then=Value(rank)) for rank, phase in enumerate(PHASE_ORDER)),
            output_field=IntegerField(),
        )
        return super().get_queryset(request).annotate(phase_rank=phase_rank).order_by("phase_rank", "order", "pk")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("text", "guidance"):
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class QuestionInline(LockableInline):
    model = Question
    form = QuestionForm
    fields = QUESTION_FIELDS
    ordering = ["order", "pk"]


class ImportForm(RefusedUploadsMixin, forms.Form):
    file = forms.FileField(label=_("Script file (JSON)"))
    script = forms.ModelChoiceField(
        label=_("Add as a new draft of"),
        queryset=CallScript.objects.all(),
        required=False,
        help_text=_("Leave empty to use the script with the file's name (created if missing)."),
    )


def _download(version: ScriptVersion) -> tuple[str, str]:
    name = f"{slugify(version.script.name, allow_unicode=True) or 'script'}-v{version.number}.json"
    return name, script_version_export_json(version=version)


def export_response(versions: list[ScriptVersion]) -> HttpResponse:
    if len(versions) == 1:
        name, text = _download(versions[0])
        response = HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for version in versions:
                archive.writestr(*_download(version))
        name = "call-scripts.zip"
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


def published_message(version: ScriptVersion) -> str:
    """Who sees the version now it is published, said as it is: the nurses
    of which UI languages, on how many rule steps (docs/scripts.md)."""
    languages, steps = script_version_audience(version)
    values = {"version": version, "languages": _(" and ").join(languages), "count": steps}
    if steps:
        return (
            ngettext(
                "%(version)s is published. From the next call they open, nurses working in %(languages)s see it "
                "on the calls of %(count)d rule step that names this script; calls already answered keep the "
                "version they were answered with.",
                "%(version)s is published. From the next call they open, nurses working in %(languages)s see it "
                "on the calls of %(count)d rule steps that name this script; calls already answered keep the "
                "version they were answered with.",
                steps,
            )
            % values
        )
    codes = sorted(version.script.departments.values_list("code", flat=True))
    if codes and version.script.is_active:
        return _(
            "%(version)s is published. No rule step names this script, so nurses working in %(languages)s see "
            "it only on calls of its departments (%(departments)s) whose rule step names no published script."
        ) % {**values, "departments": ", ".join(codes)}
    return (
        _(
            "%(version)s is published, but no nurse sees it yet: no rule step names this script. "
            "Name it on a rule step of the follow-up rules."
        )
        % values
    )


@admin.register(ScriptVersion)
class ScriptVersionAdmin(admin.ModelAdmin):
    list_display = ["script", "number", "language", "title", "status", "published_at", "published_by", "preview_link"]
    list_filter = ["status", "language", "script"]
    list_select_related = ["script", "published_by"]
    search_fields = ["script__name", "notes"]
    inlines = [TalkingPointInline, QuestionInline]
    actions = ["publish_versions", "duplicate_versions", "export_versions"]
    change_form_template = "admin/calls/scriptversion/change_form.html"
    change_list_template = "admin/calls/scriptversion/change_list.html"

    def get_fields(self, request, obj=None):
        return (
            ["script", "language", "title", "notes"]
            if obj is None
            else ["script", "number", "language", "title", "status", "notes", "published_by", "published_at"]
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["script", "number", "status", "published_by", "published_at"]

    def get_changeform_initial_data(self, request):
        initial = {"script": request.GET.get("script")}
        language = request.GET.get("language")
        if language in CallScript.Language.values:
            initial["language"] = language
        elif initial["script"]:
            script = CallScript.objects.filter(pk=initial["script"]).first() if initial["script"].isdigit() else None
            if script is not None:
                initial["language"] = script.language
        return initial

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("calls:script_preview", args=[obj.pk]), _("Preview"))

    def has_change_permission(self, request, obj=None):
        return not _locked(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _locked(request, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.number = script_version_next_number(obj.script)
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "locked": _locked(request, obj)}
        if obj is not None and extra_context["locked"] and request.method == "GET":
            messages.warning(
                request,
                _(
                    "This version is locked because it was published or used by a call. "
                    "To change it, duplicate it into a new draft."
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- buttons on the change page ---------------------------------------------------

    def get_urls(self):
        own = [
            path(
                "import/",
                upload_limit("IMPORT_MAX_BYTES")(self.admin_site.admin_view(self.import_view)),
                name="calls_scriptversion_import",
            ),
            path(
                "<int:pk>/publish/", self.admin_site.admin_view(self.publish_view), name="calls_scriptversion_publish"
            ),
            path(
                "<int:pk>/duplicate/",
                self.admin_site.admin_view(self.duplicate_view),
                name="calls_scriptversion_duplicate",
            ),
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="calls_scriptversion_export"),
        ]
        return own + super().get_urls()

    def _change_url(self, version: ScriptVersion) -> str:
        return reverse("admin:calls_scriptversion_change", args=[version.pk])

    def _publish(self, request, version: ScriptVersion) -> bool:
        try:
            script_version_publish(version=version, by=request.user)
        except ValidationError as exc:
            messages.error(
                request,
                _("%(version)s was not published: %(reasons)s")
                % {"version": version, "reasons": " ".join(exc.messages)},
            )
            return False
        return True

    @staticmethod
    def _duplicated(request, source: ScriptVersion, draft: ScriptVersion) -> None:
        messages.success(
            request, _("%(source)s was copied into the new draft %(draft)s.") % {"source": source, "draft": draft}
        )

    def publish_view(self, request, pk):
        return require_POST(self._publish_view)(request, pk)

    def _publish_view(self, request, pk):
        if not super().has_change_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ScriptVersion.objects.select_related("script"), pk=pk)
        if self._publish(request, version):
            messages.success(request, published_message(version))
        return HttpResponseRedirect(self._change_url(version))

    def duplicate_view(self, request, pk):
        return require_POST(self._duplicate_view)(request, pk)

    def _duplicate_view(self, request, pk):
        if not self.has_add_permission(request):
            raise PermissionDenied
        source = get_object_or_404(ScriptVersion.objects.select_related("script"), pk=pk)
        draft = script_version_duplicate(version=source, by=request.user)
        self._duplicated(request, source, draft)
        return HttpResponseRedirect(self._change_url(draft))

    def export_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return export_response([get_object_or_404(ScriptVersion.objects.select_related("script"), pk=pk)])

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # Bound on any POST: a refused file may leave nothing else in it.
        bound = (request.POST, request.FILES) if request.method == "POST" else (None, None)
        form = ImportForm(*bound, refused_uploads=refused_uploads(request))
        import_errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                draft = script_version_import(
                    data=form.cleaned_data["file"].read(), by=request.user, script=form.cleaned_data["script"]
                )
            except ValidationError as exc:
                import_errors = exc.messages
            else:
                messages.success(request, _("Imported as the new draft %(draft)s.") % {"draft": draft})
                return HttpResponseRedirect(self._change_url(draft))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import a call script"),
            "form": form,
            "import_errors": import_errors,
        }
        return TemplateResponse(request, "admin/calls/scriptversion/import.html", context)

    # --- list actions -------------------------------------------------------------------

    @admin.action(description=_("Publish the selected drafts"), permissions=["change"])
    def publish_versions(self, request, queryset):
        published = [v for v in queryset.select_related("script").order_by("number") if self._publish(request, v)]
        for version in published:
            messages.success(request, published_message(version))
        if published:
            count = len(published)
            messages.success(
                request,
                ngettext("%(count)d version published.", "%(count)d versions published.", count) % {"count": count},
            )

    @admin.action(description=_("Duplicate into new drafts"), permissions=["add"])
    def duplicate_versions(self, request, queryset):
        for source in queryset.select_related("script"):
            self._duplicated(request, source, script_version_duplicate(version=source, by=request.user))

    @admin.action(description=_("Export as JSON (a zip for several)"), permissions=["view"])
    def export_versions(self, request, queryset):
        return export_response(list(queryset.select_related("script").order_by("script__name", "number")))


class ScriptVersionInline(admin.TabularInline):
    model = ScriptVersion
    fields = ["number", "language", "title", "status", "published_at", "notes", "preview_link"]
    readonly_fields = fields
    ordering = ["-number"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("calls:script_preview", args=[obj.pk]), _("Preview"))


@admin.register(CallScript)
class CallScriptAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "language",
        "published_languages",
        "diagnosis_match",
        "department_codes",
        "is_active",
        "new_draft_link",
    ]
    list_filter = ["language", "is_active", "departments"]
    search_fields = ["name", "diagnosis_match"]
    filter_horizontal = ["departments"]
    inlines = [ScriptVersionInline]

    def get_queryset(self, request):
        published = ScriptVersion.objects.filter(status=ScriptVersion.Status.PUBLISHED).order_by("language")
        return (
            super()
            .get_queryset(request)
            .prefetch_related("departments", Prefetch("versions", queryset=published, to_attr="published_versions"))
        )

    @admin.display(description=_("published in"))
    def published_languages(self, obj):
        versions = getattr(obj, "published_versions", None)
        if versions is None:
            versions = list(obj.versions.filter(status=ScriptVersion.Status.PUBLISHED).order_by("language"))
        return ", ".join(f"{v.get_language_display()} (v{v.number})" for v in versions) or _("nothing yet")

    @admin.display(description=_("departments"))
    def department_codes(self, obj):
        return ", ".join(d.code for d in obj.departments.all())

    @admin.display(description=_("new version"))
    def new_draft_link(self, obj):
        url = reverse("admin:calls_scriptversion_add") + f"?script={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Add a draft"))


@admin.register(SatisfactionItem)
class SatisfactionItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "order", "is_active"]
    list_editable = ["order", "is_active"]
    ordering = ["order", "code"]
