import datetime as dt
from decimal import Decimal

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.models import Department
from calls.phones import normalise_phone
from followup import access
from followup.dates import PeriodDateFilter, PlausibleDateField, check_date
from followup.forms import LongTextField
from followup.roles import Role
from followup.uploads import RefusedUploadsMixin

from .evidence import validate_evidence
from .models import Category, Complaint, Measure, Severity
from .services import TRANSITIONS

User = get_user_model()

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# The first day the pages accept for a complaint or a report (older records
# are typed in as history, not from before the hospital's complaint office).
EARLIEST_REPORT_DAY = dt.date(2000, 1, 1)
MAX_REPORT_YEARS = 30


def handlers():
    """Who may own a complaint or deliver a promise."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.COMPLAINT_OFFICER, Role.HEAD_NURSE])
        .distinct()
        .order_by("display_name")
    )


MULTIPLE_HINT = _("Hold Ctrl (⌘ on a Mac) to choose more than one.")


class ActionForm(forms.Form):
    """A form of the complaint page: built with the complaint and the user
    (each form uses what it needs)."""

    def __init__(self, *args, complaint: Complaint | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint, self.user = complaint, user

    def clean_at(self):
        """When a step really happened: empty is now; not in the future, not
        before the complaint was received."""
        at = self.cleaned_data.get("at")
        if at is None:
            return None
        if at > timezone.now() + dt.timedelta(minutes=1):
            raise ValidationError(_("This cannot be in the future."))
        if self.complaint is not None and at < self.complaint.received_at:
            received = timezone.localtime(self.complaint.received_at)
            raise ValidationError(
                _("This cannot be before the complaint was received (%(received)s).")
                % {"received": f"{received:%Y-%m-%d %H:%M}"}
            )
        return at


def moment_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DATETIME_INPUT,
        help_text=_("Leave empty for now; give the real time when it happened earlier."),
    )


MAX_DB_INT = 2**63 - 1


def _out_of_range(value) -> bool:
    """An id no database row can have (a database refuses the query with an
    error rather than answering "no such row")."""
    try:
        return not 0 < int(str(value).strip()) <= MAX_DB_INT
    except ValueError:
        return False  # not a number: the field says so itself


class IdChoiceField(forms.ModelChoiceField):
    """A choice of a row by id that answers "not one of the choices" for an
    id too large for the database, instead of failing the request."""

    def to_python(self, value):
        if value not in self.empty_values and _out_of_range(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            if _out_of_range(pk):
                message = self.error_messages["invalid_choice"]
                raise ValidationError(message, code="invalid_choice", params={"value": pk})
        return super()._check_values(value)


class StaffChoiceField(IdMultipleChoiceField):
    """Staff with a log-in, shown with their departments so that two nurses
    of the same name can be told apart."""

    def label_from_instance(self, obj) -> str:
        departments = ", ".join(d.name for d in obj.departments.all())
        return f"{obj} ({departments})" if departments else str(obj)


class MeasureFields(forms.Form):
    """How a complaint was resolved: several measures, the compensation with its amount."""

    measures = forms.MultipleChoiceField(
        label=_("How it was resolved"),
        choices=Measure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    compensation_amount = forms.DecimalField(
        label=_("Compensation (yuan)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("9999999999.99"),
        max_digits=12,
        decimal_places=2,
    )

    def clean(self):
        data = super().clean()
        chosen = set(data.get("measures") or ())
        amount = data.get("compensation_amount")
        if Measure.COMPENSATION in chosen and amount is None and "compensation_amount" not in self.errors:
            self.add_error("compensation_amount", _("Give the amount of the compensation."))
        if amount is not None and Measure.COMPENSATION not in chosen:
            self.add_error("compensation_amount", _("An amount is only recorded with compensation."))
        return data


class ClassificationFields(forms.Form):
    """What a complaint is about: chosen when it is recorded, changed when it
    is classified. Staff involved are offered from the wards the user may
    name and must work in one of the departments involved."""

    category = IdChoiceField(label=_("Main category"), queryset=Category.objects.filter(is_active=True))
    secondary_categories = IdMultipleChoiceField(
        label=_("Other categories"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        help_text=_("Reports count the main category and show these beside it."),
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.GENERAL)
    validity = forms.ChoiceField(
        label=_("Valid or not"), choices=Complaint.Validity.choices, initial=Complaint.Validity.UNDETERMINED
    )
    departments = IdMultipleChoiceField(
        label=_("Departments involved"), queryset=Department.objects.all(), help_text=MULTIPLE_HINT
    )
    staff_involved = StaffChoiceField(
        label=_("Staff involved"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Staff of the departments involved. Hold Ctrl (⌘ on a Mac) to choose more than one."),
    )
    staff_involved_text = forms.CharField(label=_("Other staff involved"), max_length=255, required=False)
    coordinated = forms.BooleanField(
        label=_("Several departments must cooperate"),
        required=False,
        help_text=_("The legal time to reply is then 10 working days instead of 5 (set when several are involved)."),
    )
    is_dispute = forms.BooleanField(
        label=_("Medical dispute (医疗纠纷)"),
        required=False,
        help_text=_("The complaint has become a dispute over the care given."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        departments = access.complaint_department_choices(user)
        self.fields["departments"].queryset = departments
        self.fields["staff_involved"].queryset = access.ward_staff(departments).prefetch_related("departments")

    def clean(self):
        data = super().clean()
        departments = {d.pk for d in data.get("departments") or ()}
        outside = [
            str(u) for u in data.get("staff_involved") or () if not departments & {d.pk for d in u.departments.all()}
        ]
        if departments and outside:
            self.add_error(
                "staff_involved",
                _("%(names)s do(es) not work in the departments involved.") % {"names": ", ".join(outside)},
            )
        return data


class ComplaintForm(MeasureFields, ClassificationFields):
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    received_at = forms.DateTimeField(label=_("Received at"), widget=DATETIME_INPUT)
    complainant_name = forms.CharField(label=_("Complainant's name"), max_length=100)
    complainant_phone = forms.CharField(label=_("Complainant's phone"), max_length=32, required=False)
    complainant_relation = forms.ChoiceField(
        label=_("Complainant is the patient's"), choices=Complaint.Relation.choices, initial=Complaint.Relation.PATIENT
    )
    patient_mrn = forms.CharField(
        label=_("Patient's inpatient number (MRN)"),
        max_length=32,
        required=False,
        help_text=_("Leave empty when the complaint is not about one patient."),
    )
    description = LongTextField(label=_("What the complainant said"), rows=4)
    owner = IdChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    settled_on_the_spot = forms.BooleanField(
        label=_("Settled on the spot"),
        required=False,
        help_text=_(
            "Closes the complaint at once with how it was resolved and the reply below; it still counts in reports."
        ),
    )
    reply = LongTextField(label=_("Reply given to the complainant"), required=False)
    handling_satisfaction = forms.ChoiceField(
        label=_("Complainant's satisfaction with the handling"),
        choices=[("", _("Not asked")), *Complaint.Satisfaction.choices],
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("channel"), Column("received_at")),
            Row(
                Column("complainant_name"),
                Column("complainant_phone"),
                Column("complainant_relation"),
                Column("patient_mrn"),
            ),
            Row(Column("category"), Column("secondary_categories"), Column("severity"), Column("validity")),
            Row(Column("departments"), Column("staff_involved"), Column("staff_involved_text"), Column("owner")),
            Row(Column("coordinated"), Column("is_dispute")),
            "description",
            Fieldset(
                _("Settled on the spot"),
                "settled_on_the_spot",
                Row(Column("measures"), Column("compensation_amount"), Column("handling_satisfaction")),
                "reply",
            ),
        )
        self.fields["owner"].queryset = handlers()
        if not self.is_bound and "received_at" not in self.initial:
            self.initial["received_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def clean_complainant_phone(self):
        return normalise_phone(self.cleaned_data["complainant_phone"])

    def clean_patient_mrn(self):
        mrn = self.cleaned_data["patient_mrn"].strip()
        if not mrn:
            return None
        # Only patients the user may see are found: another ward's patient
        # answers exactly as an unknown number does.
        patient = access.patient_by_mrn(self.user, mrn)
        if patient is None:
            raise ValidationError(_("No patient has the inpatient number %(mrn)s."), params={"mrn": mrn})
        return patient

    def clean_received_at(self):
        received_at = self.cleaned_data["received_at"]
        check_date(received_at, future_message=_("The complaint cannot be received in the future."))
        if received_at > timezone.now() + dt.timedelta(minutes=1):
            raise ValidationError(_("The complaint cannot be received in the future."))
        if timezone.localtime(received_at).date() < EARLIEST_REPORT_DAY:
            raise ValidationError(
                _("A complaint received before %(first)s cannot be recorded here.") % {"first": EARLIEST_REPORT_DAY}
            )
        return received_at

    def clean(self):
        data = super().clean()
        if data.get("settled_on_the_spot"):
            if not data.get("measures"):
                self.add_error("measures", _("Tick how the complaint was settled on the spot."))
            if not (data.get("reply") or "").strip():
                self.add_error("reply", _("Write the reply given on the spot."))
        return data


class ClassifyForm(ClassificationFields):
    def __init__(self, *args, complaint: Complaint, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "category": complaint.category_id,
                "secondary_categories": list(complaint.secondary_categories.all()),
                "is_dispute": complaint.is_dispute,
                "coordinated": complaint.coordinated,
                "severity": complaint.severity,
                "validity": complaint.validity,
                "departments": list(complaint.departments.all()),
                "staff_involved": list(complaint.staff_involved.all()),
                "staff_involved_text": complaint.staff_involved_text,
            },
        )
        super().__init__(*args, user=user, **kwargs)


class TransitionForm(MeasureFields, ActionForm):
    to = forms.ChoiceField(label=_("New status"))
    at = moment_field(_("When"))
    handling_satisfaction = forms.ChoiceField(
        label=_("Complainant's satisfaction with the handling"),
        choices=[("", _("Not asked")), *Complaint.Satisfaction.choices],
        required=False,
    )
    note = LongTextField(label=_("Note"), required=False)

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, complaint=complaint, **kwargs)
        # Only the moves allowed from here are offered ("Replied" is reached
        # by recording the reply); any status is accepted, so that a move a
        # stale page still offers is explained by the service.
        labels = dict(Complaint.Status.choices)
        allowed = TRANSITIONS.get(complaint.status, ())
        self.fields["to"].choices = Complaint.Status.choices
        self.fields["to"].widget.choices = [(s, labels[s]) for s in allowed]
        if allowed:
            self.fields["to"].initial = allowed[0]
        _initial_measures(self, complaint)
        self.order_fields(["to", "at", "measures", "compensation_amount", "handling_satisfaction", "note"])
        if complaint.status == Complaint.Status.CLOSED:
            # Reopening is all a closed complaint offers.
            for name in ("measures", "compensation_amount", "handling_satisfaction"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        data.setdefault("measures", [])
        data.setdefault("compensation_amount", None)
        data.setdefault("handling_satisfaction", "")
        return data


def _initial_measures(form: forms.Form, complaint: Complaint) -> None:
    current = list(complaint.measures.all())
    form.fields["measures"].initial = [m.kind for m in current]
    form.fields["compensation_amount"].initial = next((m.amount for m in current if m.amount is not None), None)


class MeasuresForm(MeasureFields, ActionForm):
    note = LongTextField(label=_("Note"), required=False, rows=2)

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, complaint=complaint, **kwargs)
        _initial_measures(self, complaint)


class NoteForm(ActionForm):
    text = LongTextField(label=_("Note"))


class ContactForm(ActionForm):
    text = LongTextField(label=_("What was said"), rows=2)
    at = moment_field(_("When"))


class ReplyForm(ActionForm):
    text = LongTextField(label=_("What the complainant was told"))
    at = moment_field(_("When"))
    handling_satisfaction = forms.ChoiceField(
        label=_("Complainant's satisfaction with the handling"),
        choices=[("", _("Not asked")), *Complaint.Satisfaction.choices],
        required=False,
    )


class EvidenceForm(RefusedUploadsMixin, ActionForm):
    # The text comes first: a file refused while it arrives stops the reading
    # of the form there, and what was typed before it is kept.
    text = LongTextField(label=_("What it shows"), required=False)
    file = forms.FileField(
        label=_("Evidence file"),
        help_text=_("PDF, JPG, PNG, DOCX, XLSX, TXT, or a call recording (MP3, M4A, WAV)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_evidence(upload)
        return upload


class ReassignForm(ActionForm):
    owner = IdChoiceField(label=_("New owner"), queryset=User.objects.none())
    note = LongTextField(label=_("Note"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = handlers()


class PauseForm(ActionForm):
    note = LongTextField(label=_("What we are waiting for"))


class ResumeForm(ActionForm):
    note = LongTextField(label=_("Note"), required=False)


class PromiseForm(ActionForm):
    what = forms.CharField(label=_("What was promised"), max_length=255)
    owner = IdChoiceField(
        label=_("Who delivers it"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Staff of the departments involved or an officer: they are told and can record the delivery."),
    )
    owner_name = forms.CharField(
        label=_("Or someone without a log-in"),
        max_length=100,
        required=False,
        help_text=_("A doctor or a department head who has no log-in; an officer records the delivery."),
    )
    made_on = forms.DateField(label=_("Promised on"), widget=DATE_INPUT, required=False)
    due_on = forms.DateField(label=_("Due on"), widget=DATE_INPUT)
    note = LongTextField(label=_("Note"), required=False, rows=2)

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, complaint=complaint, **kwargs)
        self.fields["owner"].queryset = promise_owners(complaint)
        self.fields["made_on"].initial = timezone.localdate()

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        check_date(due_on, future=True)
        return due_on

    def clean(self):
        data = super().clean()
        owner, name = data.get("owner"), (data.get("owner_name") or "").strip()
        if "owner" in self.errors or "owner_name" in self.errors:
            return data
        if owner is None and not name:
            self.add_error("owner", _("Say who delivers the promise."))
        elif owner is not None and name:
            self.add_error("owner_name", _("Choose a user or write a name, not both."))
        today = timezone.localdate()
        made_on = data.get("made_on") or today
        data["made_on"] = made_on
        received_on = timezone.localtime(self.complaint.received_at).date()
        if made_on > today:
            self.add_error("made_on", _("A promise cannot be made in the future."))
        elif made_on < received_on:
            self.add_error(
                "made_on",
                _("A promise cannot be made before the complaint was received (%(day)s).") % {"day": received_on},
            )
        due_on = data.get("due_on")
        if due_on and due_on < made_on and "made_on" not in self.errors:
            self.add_error("due_on", _("A promise cannot be due before the day it was made."))
        return data


def promise_owners(complaint: Complaint):
    """Who may be named to deliver a promise: officers, and the nurses and
    head nurses of the complaint's departments (they see it and can record
    the delivery)."""
    department_ids = [d.pk for d in complaint.departments.all()]
    ward = access.ward_staff(department_ids).values("pk")
    officers = User.objects.filter(is_active=True, groups__name=Role.COMPLAINT_OFFICER).values("pk")
    return User.objects.filter(Q(pk__in=ward) | Q(pk__in=officers)).order_by("display_name", "username")


class DeliverForm(forms.Form):
    delivered_on = PlausibleDateField(
        label=_("Delivered on"),
        widget=DATE_INPUT,
        future_message=_("A promise cannot be delivered in the future."),
    )
    note = LongTextField(label=_("Note"), required=False, rows=1)


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Reference, words, complainant, phone, patient or MRN")}),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Complaint.Status.choices)
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=Category.objects.all())
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), field_name="departments", queryset=Department.objects.all()
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Complaint.Channel.choices)
    outcome = django_filters.ChoiceFilter(
        label=_("How it was resolved"), field_name="measures__kind", choices=Measure.choices, distinct=True
    )
    dispute = django_filters.BooleanFilter(label=_("Medical dispute"), field_name="is_dispute")
    received_from = PeriodDateFilter(
        label=_("Received from"), field_name="received_at", lookup_expr="date__gte", widget=DATE_INPUT
    )
    received_to = PeriodDateFilter(
        label=_("Received until"), field_name="received_at", lookup_expr="date__lte", widget=DATE_INPUT
    )

    class Meta:
        model = Complaint
        fields = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["department"].queryset = access.complaint_department_choices(user)

    def search(self, queryset, name, value):
        from .selectors import complaint_search

        return complaint_search(queryset, value)


class ReportFilterForm(forms.Form):
    """The period of the complaint analysis (a quarter, a year, or a range of
    days: the first one filled in, in the order range, year, quarter; the
    current quarter when none is), valid complaints only, one department."""

    quarter = forms.CharField(label=_("Quarter"), required=False, help_text=_("For example 2026-Q3."))
    year = forms.IntegerField(label=_("Year"), required=False)
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("A range of days counts before a year, a year before a quarter."),
    )
    end = forms.DateField(label=_("Until"), required=False, widget=DATE_INPUT)
    valid_only = forms.BooleanField(label=_("Valid complaints only"), required=False)
    department = IdChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False, empty_label=_("All departments")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = access.complaint_report_departments(user).order_by("name")

    def clean_quarter(self):
        from .selectors import Quarter

        text = self.cleaned_data["quarter"].strip()
        if not text:
            return None
        try:
            quarter = Quarter.parse(text)
        except ValueError:
            raise ValidationError(_("Write the quarter as year-Qnumber, for example 2026-Q3.")) from None
        self._check_day(quarter.first_day, "quarter")
        return quarter

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None:
            self._check_day(dt.date(year, 1, 1) if 1 <= year <= 9999 else dt.date.min, "year")
        return year

    def _check_day(self, day: dt.date, what: str) -> None:
        today = timezone.localdate()
        if day < EARLIEST_REPORT_DAY or day > today:
            raise ValidationError(
                _("Choose a %(what)s between %(first)s and today.")
                % {"what": self.fields[what].label.lower(), "first": EARLIEST_REPORT_DAY.year}
            )

    def clean(self):
        from .selectors import Period, Quarter

        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if self.errors:
            return data
        today = timezone.localdate()
        if start or end:
            if not (start and end):
                raise ValidationError(_("Give both the first and the last day of the range."))
            if start > end:
                raise ValidationError(_("The range ends before it starts."))
            if start < EARLIEST_REPORT_DAY or start > today:
                raise ValidationError(
                    _("The range must start between %(first)s and today.") % {"first": EARLIEST_REPORT_DAY}
                )
            if (end - start).days > MAX_REPORT_YEARS * 366:
                raise ValidationError(_("A range of at most %(years)d years, please.") % {"years": MAX_REPORT_YEARS})
            data["period"] = Period(start, end)
        elif data.get("year"):
            data["period"] = Period.of_year(data["year"])
        else:
            data["period"] = Period.of_quarter(data.get("quarter") or Quarter.containing(today))
        return data
