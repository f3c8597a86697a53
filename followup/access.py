"""Who may see and change what: the one place that answers it.

Every view, form queryset, selector, export, admin page and the API starts
from these querysets and getters; nothing else filters by department.

The rules (docs/access.md explains them):

- **Departments.** A nurse or head nurse works in the departments she is staff
  of (``Department.staff``). Her *scope* is those departments, active or not:
  a closed ward's history stays readable to its staff. *Choices* for new
  records (registering a discharge, raising a complaint, list filters that
  pick a ward) offer only active departments. A superuser's scope is every
  department.
- **Patients and stays.** Nurses and head nurses see the patients who have a
  stay in their scope, and those stays. Complaint officers and the
  administrator role see every patient (officers link complaints to them;
  the administrator imports and corrects records); the administrator sees
  stays hospital-wide too, in the admin.
- **Calls.** A head nurse sees her departments' calls; a nurse the calls
  assigned to her plus the unassigned ones of her departments. Calls of
  deceased patients are left out of the work queue (``include_deceased``).
- **Complaints.** Complaint officers (and superusers) see all; nurses and head
  nurses those involving one of their departments.
  The call screen also opens the calls of a deceased patient
  (``include_deceased``), read-only: they are history, not work.
- **Alerts.** A head nurse's departments' clinical alerts.
- **Death records.** A head nurse's departments' (the ward of the call the
  death was reported on; for a death a feed or an import reported, any ward
  the patient stayed in): she may reverse a mistaken one.

Objects outside the scope answer 404, exactly as objects that do not exist.
Models are looked up through the app registry so that this module, which
``calls`` and ``complaints`` import, imports neither of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from .prepared import Params
from .roles import Role, roles_of

if TYPE_CHECKING:
    from calls.models import ClinicalAlert, DeathRecord, Department, Discharge, FollowUpCall, Patient
    from complaints.models import Complaint

    from .models import User


def _model(label: str):
    return apps.get_model(label)


# --- who holds what -------------------------------------------------------------------------


def is_superuser(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_superuser and user.is_active)


def sees_every_patient(user) -> bool:
    """Complaint officers, the administrator role and superusers look patients
    up hospital-wide (by MRN, in the admin); nurses only in their wards."""
    return is_superuser(user) or bool(roles_of(user) & {Role.COMPLAINT_OFFICER, Role.ADMIN})


def sees_every_stay(user) -> bool:
    return is_superuser(user) or Role.ADMIN in roles_of(user)


def sees_all_complaints(user) -> bool:
    return is_superuser(user) or Role.COMPLAINT_OFFICER in roles_of(user)


# --- departments ----------------------------------------------------------------------------


def departments_of(user: User) -> list[tuple[int, str]]:
    """(id, name) of the departments in the user's scope (every one for a
    superuser; a closed ward still counts for its staff), read once per
    request and cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_followup_departments", None)
    if cached is None:
        Department = _model("calls.Department")
        params, every = Params(user=user.pk), is_superuser(user)

        def build() -> QuerySet[Department]:
            departments = Department.objects.all() if every else Department.objects.filter(staff__id=params["user"])
            return departments.order_by("name", "pk").values("pk", "name")

        # Compiled once (followup/prepared.py): every page of the desk asks.
        rows = params.rows(("departments-of", every), build)
        cached = [(row["pk"], row["name"]) for row in rows]
        user._followup_departments = cached
    return cached


def department_ids(user: User) -> list[int]:
    return [pk for pk, _name in departments_of(user)]


def visible_departments(user: User) -> QuerySet[Department]:
    """The departments in the user's scope (list filters, reports), as a lazy
    queryset (no query until it is read)."""
    Department = _model("calls.Department")
    if is_superuser(user):
        return Department.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Department.objects.none()
    return Department.objects.filter(staff=user)


def department_choices(user: User) -> QuerySet[Department]:
    """The active departments a user may file a new record under."""
    return visible_departments(user).filter(is_active=True)


def dashboard_departments(user: User) -> QuerySet[Department]:
    """The departments whose figures a user may see: a head nurse her own,
    a superuser all of them, anyone else none."""
    if is_superuser(user) or Role.HEAD_NURSE in roles_of(user):
        return visible_departments(user)
    return _model("calls.Department").objects.none()


def ward_staff(department_ids_: list[int] | QuerySet, *, roles=(Role.NURSE, Role.HEAD_NURSE)) -> QuerySet[User]:
    """Active staff holding one of ``roles`` in any of the departments: who
    may be named responsible nurse or be assigned a call there."""
    User = _model("followup.User")
    # departments__id__in: the column itself, which also takes placeholders (ward_staff_list).
    return (
        User.objects.filter(
            is_active=True, groups__name__in=[str(r) for r in roles], departments__id__in=department_ids_
        )
        .distinct()
        .order_by("display_name", "username")
    )


# What a form shows of a member of staff: her name (User.__str__).
STAFF_NAME_COLUMNS = ("display_name", "first_name", "last_name", "username")


def ward_staff_list(department_ids_: list[int], *, roles=(Role.NURSE, Role.HEAD_NURSE)) -> list[User]:
    """ward_staff(...) read at once, by a statement compiled once per number
    of departments (followup/prepared.py): the names a form offers (only
    the columns of her name: another column is read when asked for)."""
    params = Params(departments=list(department_ids_))
    roles = tuple(str(r) for r in roles)
    return params.objects(
        ("ward-staff", *roles),
        lambda: ward_staff(params["departments"], roles=roles).only(*STAFF_NAME_COLUMNS),
    )


# --- patients and stays ------------------------------------------------------------------------


def visible_discharges(user: User) -> QuerySet[Discharge]:
    """Stays a user may see: those of her departments (all for the
    administrator role and superusers)."""
    Discharge = _model("calls.Discharge")
    if sees_every_stay(user):
        return Discharge.objects.all()
    if not roles_of(user) & {Role.NURSE, Role.HEAD_NURSE}:
        return Discharge.objects.none()
    return Discharge.objects.filter(department__in=visible_departments(user))


def visible_patients(user: User) -> QuerySet[Patient]:
    """Patients a user may see: with a stay in her departments, or all for
    officers, the administrator role and superusers."""
    Patient = _model("calls.Patient")
    if sees_every_patient(user):
        return Patient.objects.all()
    if not roles_of(user) & {Role.NURSE, Role.HEAD_NURSE}:
        return Patient.objects.none()
    stays = _model("calls.Discharge").objects.filter(
        patient_id=OuterRef("pk"), department__in=visible_departments(user)
    )
    return Patient.objects.filter(Exists(stays))


def stay_department_ids(user: User) -> frozenset[int] | None:
    """The rule of visible_discharges and visible_patients in plain values,
    for a service deciding about many stays at once without a query each:
    the ids of the departments whose stays ``user`` sees (None: every
    department's). She sees a patient when sees_every_patient(user), or when
    one of the patient's stays is in one of these departments."""
    if sees_every_stay(user):
        return None
    if not roles_of(user) & {Role.NURSE, Role.HEAD_NURSE}:
        return frozenset()
    return frozenset(department_ids(user))


def can_see_patient(user: User, patient_id: int) -> bool:
    return sees_every_patient(user) or visible_patients(user).filter(pk=patient_id).exists()


def can_see_stay(user: User, discharge: Discharge) -> bool:
    return sees_every_stay(user) or visible_discharges(user).filter(pk=discharge.pk).exists()


def patient_by_mrn(user: User, mrn: str) -> Patient | None:
    """The patient with this MRN if the user may see them, else None (the
    same answer as for an MRN nobody has). The MRN of a record merged into
    another (an HL7 A40) finds the record it was merged into."""
    mrn = (mrn or "").strip()
    if not mrn:
        return None
    found = _model("calls.Patient").objects.filter(mrn=mrn).values_list("pk", "merged_into_id").first()
    if found is None:
        return None
    return visible_patients(user).filter(pk=found[1] or found[0]).first()


def patient_for(user: User, pk: int) -> Patient:
    patient = visible_patients(user).filter(pk=pk).first()
    if patient is None:
        raise Http404
    return patient


# --- calls -------------------------------------------------------------------------------------


def calls_scope(user: User) -> str:
    """Which of visible_calls' rules holds for ``user``: "all" (a
    superuser), "wards" (a head nurse: her departments' calls), "own" (a
    nurse: hers and her departments' unassigned ones) or "none". A statement
    compiled once for many users (followup/prepared.py) is kept per scope."""
    if is_superuser(user):
        return "all"
    held = roles_of(user)
    if Role.HEAD_NURSE in held:
        return "wards"
    if Role.NURSE in held:
        return "own"
    return "none"


def visible_calls(user: User, *, include_deceased: bool = False, placeholders=None) -> QuerySet[FollowUpCall]:
    """Calls a user may see: a head nurse her departments' calls; a nurse the
    calls assigned to her plus the unassigned ones of her departments.

    Written so PostgreSQL reads a nurse's calls from the (assigned nurse,
    status) index and never scans every discharge: the deceased are a NOT
    IN over the (few) deceased patients' stays, which PostgreSQL hashes once
    per statement whatever it estimates (as an anti-join, the generic plan
    of a prepared statement, counting on one deceased patient among a
    million, compared every open call of a ward with each of them: 7 ms
    instead of 3 for a head nurse's tab counts), the unassigned calls a
    subquery starting at the (few) unassigned calls. Both arms of the OR
    name the assigned nurse (hers, or none), so PostgreSQL ORs two scans of
    that index instead of reading every open call of the hospital and
    filtering (200,000 calls: 12 ms down to under 1 ms). A ward's calls are
    found by the call's own department (its stay's, copied onto the call),
    from the (department, status, due date) index: joining the stays
    instead, PostgreSQL hashed every stay of the ward (100,000) to find the
    open calls among them (30 ms a query).

    ``placeholders``: (user, departments), expressions standing for the
    user's id and for each of her departments' ids in a statement compiled
    once and run for every user of the same scope and number of departments
    (followup/prepared.py; the caller fills in her values)."""
    FollowUpCall = _model("calls.FollowUpCall")
    calls = FollowUpCall.objects.all()
    if not include_deceased:
        of_deceased = _model("calls.Discharge").objects.filter(patient__deceased=True).values("pk")
        calls = calls.exclude(discharge_id__in=of_deceased)
    scope = calls_scope(user)
    me, departments = placeholders or (user.pk, department_ids(user))
    if scope == "all":
        return calls
    # department__id__in: the column itself (department_id), which takes placeholders.
    if scope == "wards":
        return calls.filter(department__id__in=departments)
    if scope == "own":
        unassigned = FollowUpCall.objects.filter(assigned_to__isnull=True, department__id__in=departments)
        return calls.filter(Q(assigned_to=me) | Q(assigned_to__isnull=True, pk__in=unassigned.values("pk")))
    return calls.none()


def stays_scope(user: User) -> str:
    """Which of calls_in_visible_stays' rules holds for ``user``: "all"
    (the administrator role, superusers), "wards" (nurses and head nurses)
    or "none"."""
    if sees_every_stay(user):
        return "all"
    if roles_of(user) & {Role.NURSE, Role.HEAD_NURSE}:
        return "wards"
    return "none"


def calls_in_visible_stays(user: User, *, departments=None) -> QuerySet[FollowUpCall]:
    """The calls of the stays visible_discharges(user) holds, whoever they
    are assigned to (a patient's earlier calls on the call screen): found
    by the call's own department (its stay's, copied onto it) among the
    user's departments read once per request, with no subquery to build
    and compile. ``departments``: expressions standing for her
    departments' ids in a statement compiled once for every user of the
    same scope (stays_scope) and number of departments (followup/prepared.py)."""
    FollowUpCall = _model("calls.FollowUpCall")
    scope = stays_scope(user)
    if scope == "all":
        return FollowUpCall.objects.all()
    if scope == "none":
        return FollowUpCall.objects.none()
    return FollowUpCall.objects.filter(department__id__in=department_ids(user) if departments is None else departments)


def _sees_call(user: User, call: FollowUpCall, *, include_deceased: bool) -> bool:
    """Whether visible_calls(user, include_deceased=...) holds ``call``,
    asked of a call already read: the same rules, from the call's own
    columns (and its patient's). Building and compiling visible_calls'
    filter for one row cost more than reading the row (1.3 ms a call
    screen); tests/followup/test_access_call_for.py holds both to the same
    answers."""
    if not include_deceased and call.discharge.patient.deceased:
        return False
    scope = calls_scope(user)
    if scope == "all":
        return True
    departments = department_ids(user)
    if scope == "wards":
        return call.department_id in departments
    if scope == "own":
        return call.assigned_to_id == user.pk or (call.assigned_to_id is None and call.department_id in departments)
    return False


def call_for(
    user: User,
    pk: int,
    *,
    related: tuple[str, ...] = (),
    include_deceased: bool = False,
    annotations: dict | None = None,
) -> FollowUpCall:
    """One call the user may see (with ``related`` loaded), or 404.
    ``include_deceased``: a deceased patient's calls too (the call screen
    shows them read-only). ``annotations``: computed with the call (facts
    about the call itself, such as whether anything refers to it).

    The call is read by its key and then held to visible_calls' rules
    (_sees_call); one the user may not see is never returned. The query is
    compiled once for each set of relations and annotations and run with
    the key (followup/prepared.py): an annotation's name stands for its
    expression, so a name must always mean the same expression."""
    if not include_deceased:
        related = (*related, "discharge__patient")
    if not 0 < int(pk) < 2**63:  # no such key (and none SQLite could bind)
        raise Http404
    params = Params(pk=int(pk))

    def build() -> QuerySet[FollowUpCall]:
        calls = _model("calls.FollowUpCall").objects.select_related(*related).filter(pk=params["pk"])
        return calls.annotate(**annotations).order_by() if annotations else calls.order_by()

    found = params.objects(("call-for", *related, "|", *(annotations or {})), build)
    call = found[0] if found else None
    if call is None or not _sees_call(user, call, include_deceased=include_deceased):
        raise Http404
    return call


def visible_alerts(user: User) -> QuerySet[ClinicalAlert]:
    """Clinical alerts of the head nurse's departments (all for a superuser)."""
    ClinicalAlert = _model("calls.ClinicalAlert")
    if is_superuser(user):
        return ClinicalAlert.objects.all()
    if Role.HEAD_NURSE not in roles_of(user):
        return ClinicalAlert.objects.none()
    return ClinicalAlert.objects.filter(call__department__in=department_ids(user))


def visible_death_records(user: User) -> QuerySet[DeathRecord]:
    """Death records a head nurse may act on (reverse a mistaken one): those
    reported on a call of her departments, and those without a call (a
    feed's, an import's, the admin's) of a patient who stayed in one of
    them. All for a superuser; none for anyone else."""
    DeathRecord = _model("calls.DeathRecord")
    if is_superuser(user):
        return DeathRecord.objects.all()
    if Role.HEAD_NURSE not in roles_of(user):
        return DeathRecord.objects.none()
    departments = department_ids(user)
    stayed = _model("calls.Discharge").objects.filter(patient_id=OuterRef("patient_id"), department__in=departments)
    return DeathRecord.objects.filter(
        Q(call__discharge__department__in=departments) | Q(Exists(stayed), call__isnull=True)
    )


def death_record_for(user: User, pk: int) -> DeathRecord:
    """One death record the user may act on, or 404."""
    record = visible_death_records(user).select_related("patient", "call", "recorded_by").filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


# --- complaints --------------------------------------------------------------------------------


def visible_complaints(user: User) -> QuerySet[Complaint]:
    """Complaints a user may see: officers (and superusers) all; nurses and
    head nurses those involving one of their departments; anybody else none."""
    Complaint = _model("complaints.Complaint")
    if sees_all_complaints(user):
        return Complaint.objects.all()
    if roles_of(user) & {Role.NURSE, Role.HEAD_NURSE}:
        involved = Complaint.departments.through.objects.filter(
            complaint_id=OuterRef("pk"), department__in=visible_departments(user)
        )
        return Complaint.objects.filter(Exists(involved))
    return Complaint.objects.none()


def complaint_department_choices(user: User) -> QuerySet[Department]:
    """The active departments a complaint may name: all for officers, else her own."""
    Department = _model("calls.Department")
    if sees_all_complaints(user):
        return Department.objects.filter(is_active=True)
    return department_choices(user)


def complaint_report_departments(user: User) -> QuerySet[Department]:
    """The departments a complaint report may be limited to: every one (a
    closed ward's too, for its history) for officers, else her own."""
    if sees_all_complaints(user):
        return _model("calls.Department").objects.all()
    return visible_departments(user)


def calls_to_complain_about(user: User) -> QuerySet[FollowUpCall]:
    """Calls a complaint may be raised from: officers any; nurses and head
    nurses the calls of the stays they may see."""
    FollowUpCall = _model("calls.FollowUpCall")
    if sees_all_complaints(user):
        return FollowUpCall.objects.all()
    return FollowUpCall.objects.filter(discharge__in=visible_discharges(user))


def visible_inbound_messages(user: User):
    """The raw HL7/FHIR inbox (names, phones, MRNs of every ward): the
    administrator role and superusers."""
    InboundMessage = _model("interop.InboundMessage")
    return InboundMessage.objects.all() if sees_every_stay(user) else InboundMessage.objects.none()


def stay_departments(user: User) -> QuerySet[Department]:
    """The departments a stay may be filed under or moved to in the admin:
    every one for the administrator role and superusers (imports and
    corrections act hospital-wide), else the user's own (a closed ward's
    included, so that correcting one of its old stays still saves)."""
    if sees_every_stay(user):
        return _model("calls.Department").objects.all()
    return visible_departments(user)


class AdminScopeMixin:
    """For a ModelAdmin: list, open and change only the rows ``scope(user)``
    returns (anything else answers as if it did not exist). ``scope`` is a
    function of the user returning a queryset of the admin's model.

    Its forms offer, for a foreign key, only the rows the user may name:
    ``choice_scopes[field name](user)`` when given, else the rows the related
    model's own scoped admin shows her. A row outside them is refused as an
    invalid choice, and a raw-id field names it nowhere, not even when its id
    is put in the address (``add/?patient=12``), where Django's widget would
    show any row's name."""

    scope = None
    choice_scopes: dict = {}

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows.filter(pk__in=type(self).scope(request.user).values("pk"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        rows = self._choices(db_field, request)
        if rows is not None and "queryset" not in kwargs:
            kwargs["queryset"] = rows
            if db_field.name in self.raw_id_fields and "widget" not in kwargs:
                kwargs["widget"] = ScopedRawIdWidget(
                    db_field.remote_field, self.admin_site, rows=rows, using=kwargs.get("using")
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _choices(self, db_field, request) -> QuerySet | None:
        named = self.choice_scopes.get(db_field.name)
        if named is not None:
            return named(request.user)
        related = self.admin_site._registry.get(db_field.related_model)
        return related.get_queryset(request) if isinstance(related, AdminScopeMixin) else None


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """Django's raw-id widget, showing the chosen row's name only if it is one of ``rows``."""

    def __init__(self, rel, admin_site, *, rows: QuerySet, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.rows = rows

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            allowed = self.rows.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            allowed = False
        return super().label_and_url_for_value(value) if allowed else ("", "")


# --- the patient's own questionnaire (no log-in) -----------------------------------------------

_SELF_REPORT_RELATED = (
    "call__discharge__patient",
    "call__discharge__department",
    "call__step",
    "call__script_version",
)


def self_report_link_by_token_hash(digest: str):
    """The one path to patient data without a log-in (docs/self-report.md):
    the self-report link whose token has this SHA-256, or None. Only the
    token names a link; the view then holds its id in the patient's session
    (self_report_link_in_session)."""
    if not isinstance(digest, str) or len(digest) != 64:
        return None
    links = _model("calls.SelfReportLink").objects.select_related(*_SELF_REPORT_RELATED)
    return links.filter(token_hash=digest).first()


def self_report_link_in_session(link_id: object):
    """The link a patient's session opened with its token, or None."""
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return None
    return _model("calls.SelfReportLink").objects.select_related(*_SELF_REPORT_RELATED).filter(pk=link_id).first()
