"""Registering a discharge (patient + stay in one form) and filtering the
discharge list."""

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from followup import access
from followup.dates import PeriodDateFilter, PlausibleDateField
from followup.forms import LongTextField
from followup.models import User

from ..models import Department, Discharge, Patient
from ..services.intake import DISCHARGE_FIELDS, PATIENT_FIELDS, POLICIES, DischargeIntake, intake_check


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class DischargeForm(forms.Form):
    """One form for the patient and the stay. A known MRN updates that
    patient's details; a new MRN creates the patient."""

    mrn = forms.CharField(label=_("Inpatient number (MRN)"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    sex = forms.ChoiceField(label=_("Sex"), choices=Patient.Sex.choices, initial=Patient.Sex.UNKNOWN)
    birth_date = PlausibleDateField(
        label=_("Birth date"),
        required=False,
        widget=DateInput(),
        future_message=_("The birth date cannot be in the future."),
    )
    phone = forms.CharField(label=_("Patient's phone"), max_length=32, required=False)
    family_name = forms.CharField(label=_("Family member's name"), max_length=100, required=False)
    family_relation = forms.CharField(label=_("Relation"), max_length=50, required=False)
    family_phone = forms.CharField(label=_("Family member's phone"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    education = forms.ChoiceField(label=_("Education level"), choices=Patient.Education.choices, required=False)
    communication_notes = LongTextField(
        label=_("Notes for the callers"),
        required=False,
        help_text=_("For example: hard of hearing, prefers her daughter on the phone, speaks a dialect."),
    )
    preferred_call_time = forms.TimeField(
        label=_("Preferred time of day for calls"),
        required=False,
        widget=TimeInput(),
        help_text=_("Used when it falls inside the ward's calling window."),
    )
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    admitted_on = PlausibleDateField(
        label=_("Admitted on"), widget=DateInput(), future_message=_("The admission date cannot be in the future.")
    )
    discharged_on = PlausibleDateField(
        label=_("Discharged on"),
        widget=DateInput(),
        future_message=_("The discharge date cannot be in the future."),
    )
    diagnosis = forms.CharField(label=_("Diagnosis"), max_length=255)
    icd10 = forms.CharField(label=_("ICD-10 code"), max_length=16, required=False)
    attending_doctor = forms.CharField(label=_("Attending doctor"), max_length=100, required=False)
    admission_type = forms.ChoiceField(
        label=_("Admission type"),
        choices=[("", _("Not known")), *Discharge.AdmissionType.choices],
        required=False,
        help_text=_("Emergency admissions add to the readmission risk (LACE)."),
    )
    secondary_icd10 = forms.CharField(
        label=_("Secondary diagnoses (ICD-10 codes)"),
        max_length=600,
        required=False,
        help_text=_("Separated by commas, for example: E11.9, I10, N18.3"),
    )
    reported_emergency_visits = forms.IntegerField(
        label=_("Emergency visits in the 6 months before admission"),
        min_value=0,
        max_value=99,
        required=False,
        help_text=_("Leave empty when not known."),
    )
    responsible_nurse = forms.ModelChoiceField(
        label=_("Responsible nurse"), queryset=User.objects.none(), required=False
    )
    nursing_level = forms.ChoiceField(
        label=_("Nursing level"), choices=[("", "---------"), *Discharge.NursingLevel.choices], required=False
    )
    condition_at_discharge = LongTextField(label=_("Condition at discharge"), required=False)
    open_problems = LongTextField(label=_("Problems still open at discharge"), required=False)
    told_about_followup = forms.BooleanField(
        label=_("The patient was told the purpose and timing of the calls and the ward's phone number"),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        departments = access.department_choices(user)
        self.fields["department"].queryset = departments
        self.fields["responsible_nurse"].queryset = access.ward_staff(departments)
        if departments.count() == 1:
            self.fields["department"].initial = departments.first()
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Fieldset(
                _("Patient details"),
                Row(Column("mrn"), Column("name"), Column("sex"), Column("birth_date")),
                Row(Column("phone"), Column("family_name"), Column("family_relation"), Column("family_phone")),
                Row(Column("address"), Column("education"), Column("preferred_call_time")),
                "communication_notes",
            ),
            Fieldset(
                _("Hospital stay"),
                Row(Column("department"), Column("admitted_on"), Column("discharged_on")),
                Row(Column("diagnosis"), Column("icd10"), Column("attending_doctor")),
                Row(Column("responsible_nurse"), Column("nursing_level")),
                Row(Column("admission_type"), Column("secondary_icd10"), Column("reported_emergency_visits")),
                "condition_at_discharge",
                "open_problems",
                "told_about_followup",
            ),
            Submit("save", _("Register discharge")),
        )

    def clean(self):
        """The intake core's rules and words (calls.services.intake), the same
        for a file and a hospital feed; its normalised values replace the typed ones."""
        cleaned = super().clean()
        intake = DischargeIntake(
            mrn=cleaned.get("mrn", ""),
            admitted_on=cleaned.get("admitted_on"),
            patient_data={name: cleaned.get(name) for name in PATIENT_FIELDS if name not in self.errors},
            discharge_data={name: cleaned.get(name) for name in DISCHARGE_FIELDS if name not in self.errors},
        )
        checked = intake_check(intake, policy=POLICIES[Discharge.Source.MANUAL])
        for name, messages in checked.errors.items():
            if name in self.fields and name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        normal = checked.intake
        cleaned["mrn"] = normal.mrn
        for name, value in {**normal.patient_data, **normal.discharge_data}.items():
            if name in cleaned:
                cleaned[name] = value
        return cleaned

    def intake(self) -> DischargeIntake:
        return DischargeIntake(
            mrn=self.cleaned_data["mrn"],
            admitted_on=self.cleaned_data["admitted_on"],
            patient_data=self.patient_data(),
            discharge_data=self.discharge_data(),
        )

    def patient_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PATIENT_FIELDS}

    def discharge_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in DISCHARGE_FIELDS}

    @staticmethod
    def initial_for(patient: Patient) -> dict:
        initial = {name: getattr(patient, name) for name in PATIENT_FIELDS}
        initial["mrn"] = patient.mrn
        return initial


class DischargeFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(label=_("Department"), queryset=Department.objects.none())
    discharged_from = PeriodDateFilter(
        label=_("Discharged from"), field_name="discharged_on", lookup_expr="gte", widget=DateInput()
    )
    discharged_to = PeriodDateFilter(
        label=_("Discharged until"), field_name="discharged_on", lookup_expr="lte", widget=DateInput()
    )
    q = django_filters.CharFilter(label=_("MRN or name"), method="search")

    class Meta:
        model = Discharge
        fields = ["department", "discharged_from", "discharged_to", "q"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["department"].queryset = access.visible_departments(user)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(patient__mrn__istartswith=value) | Q(patient__name__icontains=value))
