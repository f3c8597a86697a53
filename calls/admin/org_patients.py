"""Admin of departments, patients, discharges and follow-up rules, plus the
discharge import page (upload, preview as a dry run, confirm).

Clinical records are never deleted here (archive them instead); death and
refusal of calls go through the services so the open calls are cancelled."""

import secrets
from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from followup import access
from followup.access import AdminScopeMixin
from followup.dates import check_date
from followup.uploads import RefusedUploadsMixin, refused_uploads, upload_limit
from followup.weekdays import WeekdaysField

from ..imports import ImportFileError, read_discharge_file
from ..models import Department, Discharge, FollowUpRule, Patient, RuleStep
from ..risk import RiskTier, split_codes
from ..services.cancellation import patient_decline_calls, patient_mark_deceased
from ..services.discharge_import import discharges_import
from ..services.discharges import discharge_register
from ..services.records import discharge_update, discharge_update_problems, patient_create, patient_update

IMPORT_FOLDER = "imports"


def _form_values(obj, form, *, exclude=()) -> dict:
    """The model fields an admin form edits, with the values it set on ``obj``
    (which the admin never saves itself: the services do)."""
    names = [
        field.name
        for field in obj._meta.concrete_fields
        if field.name in form.cleaned_data and field.name not in exclude and not field.primary_key
    ]
    return {name: getattr(obj, name) for name in names}


class NoDeleteMixin:
    """Clinical and configuration records are referenced by calls: archive or
    deactivate them instead of deleting."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("code", "name", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    filter_horizontal = ("staff",)


class DeceasedFilter(admin.SimpleListFilter):
    title = _("alive or died")
    parameter_name = "died"

    def lookups(self, request, model_admin):
        return [("yes", _("Died")), ("no", _("Alive"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deceased=True)
        if self.value() == "no":
            return queryset.filter(deceased=False)
        return queryset


class PatientAdminForm(forms.ModelForm):
    """Dates a person types here are plausible (followup.dates): none before
    1900, none in the future."""

    class Meta:
        model = Patient
        fields = "__all__"  # noqa: DJ007 - the admin passes its own field list

    def _day(self, name: str, future_message=None):
        day = self.cleaned_data.get(name)
        check_date(day, future_message=future_message)
        return day

    def clean_birth_date(self):
        return self._day("birth_date", _("The birth date cannot be in the future."))

    def clean_deceased_on(self):
        return self._day("deceased_on", _("The date of death cannot be in the future."))

    def clean_declined_calls_on(self):
        return self._day("declined_calls_on")


@admin.register(Patient)
class PatientAdmin(AdminScopeMixin, NoDeleteMixin, admin.ModelAdmin):
    scope = access.visible_patients
    form = PatientAdminForm
    list_display = (
        "mrn",
        "name",
        "sex",
        "birth_date",
        "phone",
        "deceased",
        "deceased_on",
        "declined_calls_on",
        "archived",
    )
    list_filter = (DeceasedFilter, "sex", "education", "archived", "phone_needs_correction")
    search_fields = ("mrn", "name", "phone", "family_phone", "family_name")
    # A death is recorded by giving its date here, or on a call; a head
    # nurse reverses a mistaken one from the call (calls.DeathRecord).
    readonly_fields = ("deceased", "merged_into", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        """Through the services: a correction, a death or a refusal (which
        cancel the patient's open calls)."""
        data = _form_values(obj, form, exclude=("deceased_on", "declined_calls_on"))
        if not change:
            created = patient_create(data=data, by=request.user)
            obj.pk = created.pk
            before = {}
        else:
            stored = Patient.objects.get(pk=obj.pk)
            before = {"deceased_on": stored.deceased_on, "declined_calls_on": stored.declined_calls_on}
            patient_update(patient=stored, changes=data, by=request.user)
        if obj.deceased_on and obj.deceased_on != before.get("deceased_on"):
            patient_mark_deceased(patient=obj, died_on=obj.deceased_on, actor=request.user)
        if obj.declined_calls_on and obj.declined_calls_on != before.get("declined_calls_on"):
            patient_decline_calls(patient=obj, on=obj.declined_calls_on, actor=request.user)


class ImportUploadForm(RefusedUploadsMixin, forms.Form):
    file = forms.FileField(
        label=_("Export file"), help_text=_("CSV (UTF-8 or GBK) or XLSX, with the columns listed in the README.")
    )


class DischargeAdminForm(forms.ModelForm):
    """Refuses what discharge_update / discharge_register would refuse, so the
    admin shows it on the form."""

    secondary_icd10 = forms.CharField(
        label=_("secondary diagnoses (ICD-10)"),
        max_length=600,
        required=False,
        help_text=_("Separated by commas, for example: E11.9, I10, N18.3"),
    )

    class Meta:
        model = Discharge
        fields = "__all__"  # noqa: DJ007 - the admin passes its own field list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "secondary_icd10" in self.fields:
            self.initial["secondary_icd10"] = ", ".join(self.instance.secondary_icd10 or [])

    def clean_secondary_icd10(self):
        codes, bad = split_codes(self.cleaned_data["secondary_icd10"])
        if bad:
            raise ValidationError(gettext("Not ICD-10 codes: %(codes)s") % {"codes": ", ".join(bad)})
        return codes

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        target = self.instance if self.instance.pk else Discharge(**{k: v for k, v in cleaned.items() if k != "id"})
        for problem in discharge_update_problems(discharge=target, changes=changes):
            self.add_error(None, problem)
        return cleaned


@admin.register(Discharge)
class DischargeAdmin(AdminScopeMixin, NoDeleteMixin, admin.ModelAdmin):
    scope = access.visible_discharges
    # A stay names a patient the user may see, in a department she may file it under.
    choice_scopes = {"patient": access.visible_patients, "department": access.stay_departments}
    form = DischargeAdminForm
    list_display = (
        "patient",
        "department",
        "admitted_on",
        "discharged_on",
        "diagnosis",
        "icd10",
        "responsible_nurse",
        "source",
        "archived",
    )
    list_filter = (
        "department",
        "source",
        "risk_tier",
        "admission_type",
        "nursing_level",
        "told_about_followup",
        "archived",
    )
    list_select_related = ("patient", "department", "responsible_nurse")
    search_fields = ("patient__mrn", "patient__name", "diagnosis", "icd10", "attending_doctor")
    date_hierarchy = "discharged_on"
    raw_id_fields = ("patient",)
    autocomplete_fields = ("department",)
    readonly_fields = (
        "source",
        "source_reference",
        "created_by",
        "created_at",
        "updated_at",
        "risk_score",
        "risk_lower_bound",
        "risk_tier",
        "risk_detail",
        "readmitted_unplanned_31",
        "readmitted_30",
        "emergency_visit_30",
        "died_30",
    )
    change_list_template = "admin/calls/discharge/change_list.html"

    def get_changeform_initial_data(self, request):
        """Values given in the address (``add/?department=3``), less one
        that names no row of an autocomplete field: Django's autocomplete
        widget fails on a value that is not an id (``?department=abc``, a 500)."""
        initial = super().get_changeform_initial_data(request)
        for name in self.get_autocomplete_fields(request):
            if name in initial:
                related = self.model._meta.get_field(name).related_model
                try:
                    found = related._default_manager.filter(pk=initial[name]).exists()
                except (ValueError, TypeError, ValidationError):
                    found = False
                if not found:
                    del initial[name]
        return initial

    def save_model(self, request, obj, form, change):
        """Through the services: a new stay is registered as on the nurse's
        page (readmission, this week's calls); a correction through
        discharge_update (dates, nurse in the ward, calls regenerated)."""
        if change:
            stored = Discharge.objects.select_related("department", "responsible_nurse").get(pk=obj.pk)
            discharge_update(discharge=stored, changes=_form_values(obj, form), by=request.user)
            return
        data = _form_values(obj, form, exclude=("patient", "admitted_on"))
        created = discharge_register(
            mrn=obj.patient.mrn, patient_data={}, admitted_on=obj.admitted_on, discharge_data=data, by=request.user
        )
        obj.pk = created.pk

    def get_urls(self):
        return [
            path(
                "import/",
                upload_limit("IMPORT_MAX_BYTES")(self.admin_site.admin_view(self.import_view)),
                name="calls_discharge_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload -> preview (a dry run: what would be created or updated and
        every bad row) -> confirm (the same file, applied all or nothing)."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("Import discharges")}
        form = ImportUploadForm()
        if request.method == "POST" and "token" in request.POST:
            return self._import_confirm(request)
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES, refused_uploads=refused_uploads(request))
            if form.is_valid():
                upload = form.cleaned_data["file"]
                content = upload.read()
                try:
                    rows = read_discharge_file(name=upload.name, content=content)
                except ImportFileError as exc:
                    form.add_error("file", str(exc))
                else:
                    report = discharges_import(rows=rows, by=request.user, dry_run=True)
                    context["report"] = report
                    if report.ok:
                        context["token"] = self._keep(upload.name, content)
                        context["file_name"] = upload.name
        context["form"] = form
        return TemplateResponse(request, "admin/calls/discharge/import.html", context)

    @staticmethod
    def _keep(name: str, content: bytes) -> str:
        suffix = PurePath(name).suffix.lower()
        token = secrets.token_hex(16) + suffix
        default_storage.save(f"{IMPORT_FOLDER}/{token}", ContentFile(content))
        return token

    def _import_confirm(self, request):
        token, file_name = request.POST["token"], request.POST.get("file_name", "")
        stem, _dot, suffix = token.partition(".")
        if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) or suffix not in ("csv", "xlsx"):
            raise PermissionDenied
        stored = f"{IMPORT_FOLDER}/{token}"
        if not default_storage.exists(stored):
            messages.error(request, gettext("The uploaded file has expired: upload it again."))
            return redirect("admin:calls_discharge_import")
        with default_storage.open(stored, "rb") as handle:
            content = handle.read()
        rows = read_discharge_file(name=token, content=content)
        report = discharges_import(rows=rows, by=request.user, dry_run=False, source_reference=file_name[:200])
        default_storage.delete(stored)
        if report.ok:
            messages.success(
                request,
                gettext("Imported: %(created)s discharges created, %(updated)s updated.")
                % {"created": report.created, "updated": report.updated},
            )
            return redirect(reverse("admin:calls_discharge_changelist"))
        messages.error(request, gettext("The file changed meanwhile and now has bad rows: nothing was imported."))
        return redirect("admin:calls_discharge_import")


class RuleStepForm(forms.ModelForm):
    """The calling days as one checkbox per weekday (stored as numbers)."""

    weekdays = WeekdaysField(label=_("calling days"), help_text=_("Tick the days the ward makes this call."))
    risk_tiers = forms.TypedMultipleChoiceField(
        label=_("readmission risk tiers"),
        choices=RiskTier.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every patient. Ticked: only patients of those readmission risk tiers."),
    )

    class Meta:
        model = RuleStep
        fields = "__all__"  # noqa: DJ007 - the inline passes its own field list


class RuleStepInline(admin.TabularInline):
    model = RuleStep
    form = RuleStepForm
    extra = 1

    class Media:
        css = {"all": ["css/admin-rules.css"]}

    fields = (
        "order",
        "offset_days",
        "early_days",
        "late_days",
        "weekdays",
        "window_start",
        "window_end",
        "max_attempts",
        "attempt_days",
        "dial_from",
        "dial_until",
        "script",
        "risk_tiers",
        "send_self_report_hours_before",
    )


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "department", "diagnosis_match", "is_active")
    list_filter = ("department", "is_active")
    search_fields = ("name", "diagnosis_match", "department__name", "department__code")
    inlines = [RuleStepInline]
