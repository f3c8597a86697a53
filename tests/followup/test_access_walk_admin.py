"""The access walk of the admin site (the app's own pages are walked by
test_access_walk): every URL of every registered model admin (changelist,
add, change, history, delete and the custom views), with every role, as a
user with and without entry to the admin site, against objects of two
departments.

- Without entry to the admin site (``is_staff`` off) every page sends the
  user to the admin's log-in page.
- With it, a role opens the models ``ADMIN_MODELS`` names for it and nothing
  else (403); inside a model it lists, opens and changes only the rows
  followup.access gives it. The admin answers an object outside them as one
  that does not exist (a redirect to its index saying so): that is refused.
- A superuser sees everything.
- Every refused request under an audited admin app leaves a "refused" row
  in the audit trail.

``ADMIN_MODELS`` and ``CUSTOM_VIEWS`` are the expectations: a model
registered or a view added without saying who may open it fails the walk."""

import dataclasses
import datetime as dt
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from calls.models import CallAttempt, ClinicalAlert, Department, FollowUpCall, SpotCheck
from complaints import services as complaint_services
from complaints.models import Category, ChannelResponseTarget, Complaint, Holiday
from followup.audit import AUDITED_ADMIN_APPS, audit_record
from followup.models import AuditEvent, Notification
from followup.roles import Role
from interop.models import FeedSender, InboundMessage, Kind, WardMapping
from tests.factories import DepartmentFactory, FollowUpCallFactory, ScriptVersionFactory, UserFactory

OURS, THEIRS = "CARD", "ONCO"  # the walking nurses work in cardiology
BOTH, OWN, NOTHING = frozenset({OURS, THEIRS}), frozenset({OURS}), frozenset()
ROLES = ("nurse", "head_nurse", "officer", "admin_user", "no_role_user")
NURSES = frozenset({"nurse", "head_nurse"})
EVERY_ROLE = frozenset({"nurse", "head_nurse", "officer", "admin_user"})
ADMIN = frozenset({"admin_user"})
NOBODY = frozenset()


@dataclasses.dataclass(frozen=True)
class Expect:
    """Who opens a model's admin pages, and which department's rows each sees.

    ``opens``: the roles (given entry to the admin site) whose pages of the
    model answer; everyone else gets 403, a superuser always answers.
    ``ward``: for a model holding a department's data, the departments'
    rows each role sees; a role not named sees both. None: configuration
    that belongs to no department."""

    opens: frozenset[str]
    ward: dict[str, frozenset[str]] | None = None

    def sees(self, role: str) -> frozenset[str]:
        return BOTH if self.ward is None else self.ward.get(role, BOTH)


IN_THEIR_WARD = {"nurse": OWN, "head_nurse": OWN}  # docs/access.md: nurses and head nurses see their departments

ADMIN_MODELS: dict[str, Expect] = {
    "auth.group": Expect(ADMIN),
    "axes.accessattempt": Expect(NOBODY),
    "axes.accessfailurelog": Expect(NOBODY),
    "axes.accesslog": Expect(NOBODY),
    "calls.callattempt": Expect(NURSES, IN_THEIR_WARD),
    "calls.callscript": Expect(NURSES | ADMIN),
    "calls.clinicalalert": Expect(NURSES, {"nurse": NOTHING, "head_nurse": OWN}),  # alerts are the head nurse's
    "calls.department": Expect(EVERY_ROLE),
    "calls.discharge": Expect(NURSES | ADMIN, IN_THEIR_WARD),
    "calls.followupcall": Expect(NURSES, IN_THEIR_WARD),
    "calls.followuprule": Expect(ADMIN),
    "calls.patient": Expect(NURSES | {"officer"} | ADMIN, IN_THEIR_WARD),
    "calls.satisfactionitem": Expect(ADMIN),
    "calls.scriptversion": Expect(NURSES | ADMIN),
    "calls.spotcheck": Expect(frozenset({"head_nurse"}), IN_THEIR_WARD),
    "complaints.category": Expect(EVERY_ROLE),
    "complaints.complaint": Expect(NURSES | {"officer"}, IN_THEIR_WARD),
    "complaints.complaintevent": Expect(NURSES | {"officer"}, IN_THEIR_WARD),
    "complaints.holiday": Expect(frozenset({"officer"}) | ADMIN),
    "complaints.channelresponsetarget": Expect(frozenset({"officer"}) | ADMIN),
    "followup.notification": Expect(NOBODY),
    "complaints.promise": Expect(NURSES | {"officer"}, IN_THEIR_WARD),
    "complaints.slapolicy": Expect(frozenset({"officer"}) | ADMIN),
    "complaints.workingcalendar": Expect(frozenset({"officer"}) | ADMIN),
    "django_celery_beat.clockedschedule": Expect(NOBODY),
    "django_celery_beat.crontabschedule": Expect(ADMIN),
    "django_celery_beat.intervalschedule": Expect(ADMIN),
    "django_celery_beat.periodictask": Expect(ADMIN),
    "django_celery_beat.solarschedule": Expect(NOBODY),
    "followup.auditevent": Expect(ADMIN),
    "followup.user": Expect(ADMIN),
    "interop.inboundmessage": Expect(ADMIN),  # the raw inbox of every ward: the administrator's
    "interop.wardmapping": Expect(ADMIN),
    "interop.feedsender": Expect(ADMIN),  # the sending systems and their tokens
}

# Views a model admin adds to the standard five: who may use them. They act
# on configuration (scripts) or check the rows themselves (the import).
CUSTOM_VIEWS: dict[str, frozenset[str]] = {
    "calls_discharge_import": NURSES | ADMIN,  # rows outside her wards are refused row by row
    "calls_scriptversion_import": ADMIN,
    "calls_scriptversion_publish": ADMIN,
    "calls_scriptversion_duplicate": ADMIN,
    "calls_scriptversion_export": NURSES | ADMIN,
    "auth_user_password_change": ADMIN,
}
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
# The admin site's own pages: open to anyone with entry to the site.
SITE_VIEWS = {"index", "password_change", "password_change_done", "jsi18n", "app_list", "autocomplete", "view_on_site"}
NOT_WALKED = {"login", "logout"}  # open to anyone; walking logout would end the session


# --- the data -----------------------------------------------------------------------------------


def _ward_objects(department: Department, nurse, officer, tag: str) -> dict[str, object]:
    """One row of every model that holds a department's data."""
    call = FollowUpCallFactory(
        discharge__department=department,
        discharge__patient__mrn=f"MRN-{tag}",
        discharge__patient__name=f"Patient {tag}",
        assigned_to=nurse,
        status=FollowUpCall.Status.COMPLETED,
        completed_at=timezone.now(),
    )
    now = timezone.now()
    complaint = complaint_services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description=f"Nobody explained the bill in {tag}.",
        complainant_name=f"Complainant {tag}",
        departments=[department],
        owner=officer,
    )
    return {
        "calls.patient": call.discharge.patient,
        "calls.discharge": call.discharge,
        "calls.followupcall": call,
        "calls.callattempt": CallAttempt.objects.create(call=call, nurse=nurse, started_at=now, result="answered"),
        "calls.clinicalalert": ClinicalAlert.objects.create(
            call=call, raised_at=now, due_at=now + dt.timedelta(hours=24), reason="chest pain"
        ),
        "calls.spotcheck": SpotCheck.objects.create(call=call, week=timezone.localdate(), sampled_at=now),
        "complaints.complaint": complaint,
        "complaints.complaintevent": complaint.events.first(),
        "complaints.promise": complaint_services.promise_add(
            complaint=complaint, by=officer, what=f"Call back {tag}", owner=officer, due_on=timezone.localdate()
        ),
    }


def _marker(label: str, obj) -> str:
    """Text a changelist row of ``obj`` shows: the patient's MRN or the complaint's reference."""
    if label.startswith("complaints."):
        complaint = obj if isinstance(obj, Complaint) else obj.complaint
        return complaint.reference
    patient = {
        "calls.patient": lambda o: o,
        "calls.discharge": lambda o: o.patient,
        "calls.followupcall": lambda o: o.discharge.patient,
    }.get(label, lambda o: o.call.discharge.patient)(obj)
    return patient.mrn


def _configuration_objects(officer, admin_user) -> None:
    """One row of each configuration model the migrations do not seed."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_celery_beat.models import ClockedSchedule, IntervalSchedule, SolarSchedule

    ScriptVersionFactory()
    Holiday.objects.create(date=dt.date(2026, 10, 1), name="National Day")
    ChannelResponseTarget.objects.create(channel="hotline", first_response_value=30, first_response_unit="minutes")
    Notification.objects.create(recipient=officer, text="Complaint overdue")
    WardMapping.objects.create(kind=Kind.FHIR, code="*", department=Department.objects.get(code=OURS))
    FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP", discharge_classes="I")
    seen = {"user_agent": "walk", "ip_address": "10.0.0.9", "username": "mallory", "http_accept": "*/*"}
    AccessAttempt.objects.create(**seen, path_info="/", get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen, path_info="/")
    AccessFailureLog.objects.create(**seen, path_info="/")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    SolarSchedule.objects.create(event="sunrise", latitude=31.2, longitude=121.5)
    IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    audit_record(request=None, action=AuditEvent.Action.VIEW, user=admin_user)


@pytest.fixture
def world(nurse, head_nurse, officer, admin_user, no_role_user):
    cardiology = DepartmentFactory(code=OURS)
    cardiology.staff.add(nurse, head_nurse)
    oncology = DepartmentFactory(code=THEIRS)
    oncology_nurse = UserFactory(username="olga", roles=[Role.NURSE])
    oncology.staff.add(oncology_nurse)
    ward = {
        OURS: _ward_objects(cardiology, nurse, officer, OURS),
        THEIRS: _ward_objects(oncology, oncology_nurse, officer, THEIRS),
    }
    for tag in (OURS, THEIRS):
        InboundMessage.objects.create(
            kind=Kind.HL7,
            sender="HIS",
            control_id=f"CTRL-{tag}",
            payload="MSH|^~\\&|HIS",
            discharge=ward[tag]["calls.discharge"],
        )
    _configuration_objects(officer, admin_user)
    return ward


def object_of(world, label: str, tag: str):
    if label in world[tag]:
        return world[tag][label]
    obj = apps.get_model(label)._default_manager.order_by("pk").first()
    assert obj is not None, f"{label}: add a row to test_access_walk_admin.world"
    return obj


# --- the walk -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Page:
    name: str  # the URL name without "admin:"
    label: str  # the model's label, "" for the site's own pages
    view: str  # changelist, add, history, delete, change, or the custom view's name
    kwargs: frozenset[str]


def admin_pages() -> list[Page]:
    models = {f"{m._meta.app_label}_{m._meta.model_name}": m._meta.label_lower for m in admin.site._registry}
    pages = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name and p.name not in NOT_WALKED:
                owner = next((lbl for prefix, lbl in models.items() if p.name.startswith(prefix + "_")), "")
                if p.name in CUSTOM_VIEWS:
                    owner = "followup.user" if p.name == "auth_user_password_change" else owner
                    view = p.name
                elif owner:
                    prefix = owner.replace(".", "_") + "_"
                    view = p.name.removeprefix(prefix)
                else:
                    view = p.name
                pages.append(Page(p.name, owner, view, frozenset(p.pattern.converters)))

    walk(admin.site.get_urls())
    return pages


def test_every_admin_model_and_view_says_who_opens_it():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert sorted(registered - set(ADMIN_MODELS)) == [], "say in ADMIN_MODELS who opens these"
    assert sorted(set(ADMIN_MODELS) - registered) == []
    unknown = [
        p.name
        for p in admin_pages()
        if (p.label and p.view not in STANDARD_VIEWS and p.view not in CUSTOM_VIEWS)
        or (not p.label and p.view not in SITE_VIEWS)
    ]
    assert unknown == [], "say in CUSTOM_VIEWS who may use these admin views"


def _url(page: Page, obj) -> str:
    if page.view == "app_list":
        return reverse("admin:app_list", kwargs={"app_label": "calls"})
    if page.view == "view_on_site":
        from django.contrib.contenttypes.models import ContentType

        return reverse(
            "admin:view_on_site",
            kwargs={"content_type_id": ContentType.objects.get_for_model(obj).pk, "object_id": obj.pk},
        )
    if not page.kwargs:
        return reverse(f"admin:{page.name}")
    (key,) = page.kwargs
    return reverse(f"admin:{page.name}", kwargs={key: obj.pk})


class Walker:
    """Requests one user's pages and collects every answer that breaks the expectations."""

    def __init__(self, client, role: str):
        self.client, self.role = client, role
        self.problems: list[str] = []

    def request(self, method: str, url: str, data=None):
        self.client.cookies.pop("messages", None)  # only this request's messages
        before = AuditEvent.objects.count()
        response = getattr(self.client, method)(url, data or {})
        if response.status_code >= 500:
            self.problems.append(f"{method.upper()} {url} answered {response.status_code}")
        return response, before

    def refused(self, method: str, url: str, *, data=None, missing_id=None) -> None:
        """The page must refuse: the log-in page, 403/404, or (for an object
        outside the user's scope) the admin index saying it does not exist,
        and the refusal is in the audit trail."""
        response, before = self.request(method, url, data)
        status, location = response.status_code, response.get("Location", "")
        login = status == 302 and location.startswith(reverse("admin:login") + "?next=")
        not_found = (
            missing_id is not None
            and status == 302
            and location == reverse("admin:index")
            and any(f"“{missing_id}” doesn’t exist" in str(m) for m in get_messages(response.wsgi_request))
        )
        if not (login or not_found or status in (403, 404, 405)):
            self.problems.append(f"{method.upper()} {url} answered {status} {location} to {self.role}")
            return
        if url.startswith(AUDITED_ADMIN_APPS) and status != 405:  # 405: a wrong method, not a refusal
            rows = AuditEvent.objects.order_by("pk")[before:]
            if [(r.action, r.path) for r in rows] != [(AuditEvent.Action.REFUSED, url.split("?")[0])]:
                found = [(r.action, r.object_type, r.object_id, r.status_code) for r in rows]
                self.problems.append(f"{method.upper()} {url} refused to {self.role}, audit trail has {found}")

    def answers(self, url: str, *, shows=(), hides=()) -> None:
        response, _before = self.request("get", url)
        if response.status_code != 200:
            self.problems.append(f"GET {url} answered {response.status_code} to {self.role}")
            return
        html = response.content.decode()
        self.problems += [f"GET {url} does not show {text} to {self.role}" for text in shows if text not in html]
        self.problems += [f"GET {url} shows {text} to {self.role}" for text in hides if text in html]


def add_form_names_no_row_outside_the_scope(walker: Walker, url: str, label: str, world) -> None:
    """The add page answers (200, or 403 where adding is not the role's),
    and prefilled through the address with another department's row for a
    foreign key (``?patient=12``) it does not show that row."""
    response, _before = walker.request("get", url)
    if response.status_code != 200:
        return
    for field in apps.get_model(label)._meta.concrete_fields:
        related = field.related_model._meta.label_lower if field.many_to_one else None
        if related is None or ADMIN_MODELS.get(related, Expect(NOBODY)).ward is None:
            continue
        if walker.role != "superuser" and THEIRS not in ADMIN_MODELS[related].sees(walker.role):
            theirs = world[THEIRS][related]
            walker.answers(f"{url}?{field.name}={theirs.pk}", hides=[_marker(related, theirs)])


WALKERS = [(role, False) for role in ROLES] + [(role, True) for role in ROLES] + [("superuser", True)]


def _user(request, role: str, staff: bool):
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    user = request.getfixturevalue(role)
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.parametrize(("role", "staff"), WALKERS, ids=[f"{r}-{'staff' if s else 'not_staff'}" for r, s in WALKERS])
def test_every_admin_page_answers_each_role_only_with_its_rows(request, client, world, role, staff):
    user = _user(request, role, staff)
    client.force_login(user)
    walker = Walker(client, role)
    for page in admin_pages():
        if not staff:
            for tag in (OURS, THEIRS) if page.kwargs else (OURS,):
                url = _url(page, object_of(world, page.label or "calls.patient", tag))
                walker.refused("get", url)
                walker.refused("post", url)
            continue
        if not page.label:
            continue  # the site's own pages: test_the_admin_site_pages_show_no_row_outside_the_scope
        expect = ADMIN_MODELS[page.label]
        may_open = role == "superuser" or role in (CUSTOM_VIEWS.get(page.view) or expect.opens)
        sees = BOTH if role == "superuser" else expect.sees(role)
        if not page.kwargs:
            url = _url(page, None)
            if not may_open:
                walker.refused("get", url)
                walker.refused("post", url)
            elif page.view == "changelist" and expect.ward is not None:
                rows = {tag: _marker(page.label, world[tag][page.label]) for tag in (OURS, THEIRS)}
                walker.answers(url, shows=[rows[t] for t in sees], hides=[rows[t] for t in BOTH - sees])
                if THEIRS not in sees:
                    theirs = world[THEIRS][page.label]
                    walker.request(
                        "post", url, {"action": "delete_selected", "_selected_action": theirs.pk, "post": "yes"}
                    )
                    assert type(theirs)._default_manager.filter(pk=theirs.pk).exists(), f"{url} deleted by {role}"
            elif page.view == "changelist":
                walker.answers(url)
            elif page.view == "add":
                add_form_names_no_row_outside_the_scope(walker, url, page.label, world)
            else:
                walker.request("get", url)
            continue
        for tag in (OURS, THEIRS) if may_open else (OURS,):  # a model closed to the role: any row will do
            obj = object_of(world, page.label, tag)
            url = _url(page, obj)
            if not may_open:
                # 403; or, where the scope leaves the role no row at all, "does not exist"
                walker.refused("get", url, missing_id=obj.pk)
                walker.refused("post", url, missing_id=obj.pk)
            elif tag not in sees:
                walker.refused("get", url, missing_id=obj.pk)
                walker.refused("post", url, data={"post": "yes"}, missing_id=obj.pk)
                assert type(obj)._default_manager.filter(pk=obj.pk).exists(), f"{url} deleted by {role}"
            elif page.view in ("change", "history"):
                walker.answers(url)
            else:
                walker.request("get", url)
    assert walker.problems == []


def autocomplete_sources() -> list[tuple[str, str, str]]:
    """(app label, model name, field) of every relation the admin's
    autocomplete may be asked about: the rows offered are the related model
    admin's, so each must be scoped as its changelist is."""
    sources = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not ((field.is_relation and field.concrete) or field.many_to_many) or field.auto_created:
                continue
            remote = admin.site._registry.get(field.related_model)
            if remote is not None and remote.search_fields:
                sources.append((model._meta.app_label, model._meta.model_name, field.name))
    return sources


STAFF = [(role, True) for role in ROLES] + [("superuser", True)]


@pytest.mark.filterwarnings(
    "ignore:Pagination may yield inconsistent results:django.core.paginator.UnorderedObjectListWarning"
)
@pytest.mark.parametrize("role", [r for r, _s in STAFF])  # axes' admin (a superuser's autocomplete) has no ordering
def test_the_admin_site_pages_show_no_row_outside_the_scope(request, client, world, role):
    user = _user(request, role, True)
    client.force_login(user)
    walker = Walker(client, role)
    for name in ("index", "password_change", "password_change_done", "jsi18n"):
        walker.answers(reverse(f"admin:{name}"))
    patient = world[THEIRS]["calls.patient"]
    walker.refused("get", _url(Page("view_on_site", "", "view_on_site", frozenset()), patient))  # no model has a page

    for app_label, model_name, field_name in autocomplete_sources():
        remote = apps.get_model(app_label, model_name)._meta.get_field(field_name).related_model
        label = remote._meta.label_lower
        expect = ADMIN_MODELS[label]
        query = {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""}
        url = reverse("admin:autocomplete") + "?" + urlencode(query)
        if role != "superuser" and role not in expect.opens:
            walker.refused("get", url)
            continue
        response, _before = walker.request("get", url)
        if response.status_code != 200:
            walker.problems.append(f"GET {url} answered {response.status_code} to {role}")
            continue
        offered = {row["id"] for row in response.json()["results"]}
        if expect.ward is not None:
            sees = BOTH if role == "superuser" else expect.sees(role)
            ids = {tag: str(world[tag][label].pk) for tag in (OURS, THEIRS)}
            if {tag for tag in BOTH if ids[tag] in offered} != sees:
                walker.problems.append(f"GET {url} offers {sorted(offered)} to {role}; sees {sorted(sees)}: {ids}")
    assert walker.problems == []
