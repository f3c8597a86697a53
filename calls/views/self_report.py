"""The patient's self-report questionnaire (no log-in) and the SMS gateway's
callbacks (docs/self-report.md).

``/r/<token>`` is the link in the text message: it checks the token, puts
the link's id in the patient's session and redirects to ``/r/``, the form,
so the token appears in one request only (and logs and the audit trail
show it as ``/r/***``). A wrong, expired or used token and a link whose call
is closed all get the same 404 page; every address and every link is
rate-limited."""

import hmac
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from followup import access
from followup.net import client_ip
from followup.sms import get_backend

from ..forms.self_report import CallMeForm, SelfReportForm, draft_initial
from ..models import Question, SatisfactionItem, SelfReportLink
from ..self_report_tokens import token_hash, token_is_signed
from ..services.self_report import (
    LANGUAGES,
    LinkClosed,
    addressed_as,
    link_is_open,
    link_script_version,
    self_report_call_me,
    self_report_draft_save,
    self_report_language_set,
    self_report_link_open,
    self_report_stop,
    self_report_submit,
    sms_receipts_record,
    sms_replies_record,
)

SESSION_LINK = "self_report_link"
SESSION_DONE = "self_report_done"
HOUR = 3600


def _over_limit(key: str, limit: int) -> bool:
    """Count one request against ``key`` in this hour's bucket; True past the limit."""
    bucket = f"self-report:{key}:{int(time.time() // HOUR)}"
    if cache.add(bucket, 1, timeout=HOUR):
        return limit < 1
    try:
        return cache.incr(bucket) > limit
    except ValueError:  # the bucket expired in between
        cache.add(bucket, 1, timeout=HOUR)
        return False


def _refused(request: HttpRequest, *, status: int = 404) -> HttpResponse:
    """One page for every link that does not open: it says nothing about why."""
    return render(request, "self_report/gone.html", status=status)


def _address_limited(request: HttpRequest) -> bool:
    return _over_limit(f"ip:{client_ip(request) or '-'}", settings.SELF_REPORT_RATE_PER_IP)


def _link_limited(link_hash: str) -> bool:
    return _over_limit(f"link:{link_hash[:32]}", settings.SELF_REPORT_RATE_PER_LINK)


@login_not_required
@require_GET
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    if _address_limited(request):
        return _refused(request, status=429)
    if not token_is_signed(token):
        return _refused(request)
    digest = token_hash(token)
    if _link_limited(digest):
        return _refused(request, status=429)
    link = access.self_report_link_by_token_hash(digest)
    if link is None or not link_is_open(link):
        return _refused(request)
    request.session.cycle_key()
    request.session[SESSION_LINK] = link.pk
    request.session.pop(SESSION_DONE, None)
    return redirect("self_report:form")


def _questions(link: SelfReportLink) -> list[Question]:
    version = link_script_version(link)
    return list(version.questions.order_by("order", "pk")) if version is not None else []


def _page(request, link, *, form, call_me_form, status=200) -> HttpResponse:
    patient = link.call.discharge.patient
    context = {
        "link": link,
        "greeting": addressed_as(patient, link.language),
        "ward": link.call.discharge.department.name,
        "form": form,
        "call_me_form": call_me_form,
        "languages": [(code, name) for code, name in settings.LANGUAGES if code in LANGUAGES],
        "expires_at": link.expires_at,
    }
    response = render(request, "self_report/form.html", context, status=status)
    response["Content-Language"] = link.language
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest) -> HttpResponse:
    if _address_limited(request):
        return _refused(request, status=429)
    link = access.self_report_link_in_session(request.session.get(SESSION_LINK))
    if link is None or _link_limited(link.token_hash):
        return _refused(request, status=404 if link is None else 429)
    with translation.override(link.language):
        if link.answered_at is not None and request.session.get(SESSION_DONE) == link.pk:
            response = render(request, "self_report/thanks.html", {"link": link})
            response["Content-Language"] = link.language
            return response
        if not link_is_open(link):
            return _refused(request)
        self_report_link_open(link=link)
        questions = _questions(link)
        items = list(SatisfactionItem.objects.filter(is_active=True).order_by("order", "code"))
        if request.method == "GET":
            form = SelfReportForm(
                initial=draft_initial(link.draft, questions), questions=questions, items=items, language=link.language
            )
            return _page(request, link, form=form, call_me_form=CallMeForm())
        return _act(request, link, questions, items)


def _act(request, link, questions, items) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == "language":
        self_report_language_set(link=link, language=request.POST.get("language", ""))
        return redirect("self_report:form")
    if action == "stop":
        self_report_stop(link=link)
        messages.success(request, _("You will get no more text messages from us. A nurse may still call you."))
        return redirect("self_report:form")
    form = SelfReportForm(request.POST, questions=questions, items=items, language=link.language)
    call_me_form = CallMeForm(request.POST if action == "call_me" else None)
    if action in ("save", "autosave", "call_me", "submit"):
        self_report_draft_save(link=link, answers=form.partial_answers())
    if action == "autosave":
        return HttpResponse(status=204)
    if action == "save":
        messages.success(request, _("Your answers are kept. You can finish later with the same link."))
        return redirect("self_report:form")
    if action == "call_me":
        if not call_me_form.is_valid():
            return _page(
                request,
                link,
                form=SelfReportForm(
                    initial=draft_initial(link.draft, questions),
                    questions=questions,
                    items=items,
                    language=link.language,
                ),
                call_me_form=call_me_form,
                status=200,
            )
        self_report_call_me(link=link, note=call_me_form.cleaned_data["note"])
        messages.success(request, _("Thank you. A nurse will call you soon."))
        return redirect("self_report:form")
    if action != "submit":
        return redirect("self_report:form")
    if form.is_valid():
        try:
            self_report_submit(
                link=link,
                answered_by=form.cleaned_data["answered_by"],
                answers=form.answers(),
                satisfaction=form.cleaned_data["satisfaction"],
                item_scores=form.item_scores(),
            )
        except LinkClosed:
            return _refused(request)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            request.session[SESSION_DONE] = link.pk
            return redirect("self_report:form")
    return _page(request, link, form=form, call_me_form=CallMeForm())


# --- the gateway's callbacks ---------------------------------------------------------------


def _gateway_key_ok(key: str) -> bool:
    expected = settings.SMS_CALLBACK_KEY
    return bool(expected) and hmac.compare_digest(key.encode(), expected.encode())


def _callback(request: HttpRequest, key: str, *, replies: bool) -> HttpResponse:
    if not _gateway_key_ok(key):
        raise Http404
    backend = get_backend()
    actor = f"sms:{backend.name}"
    try:
        if replies:
            sms_replies_record(replies=backend.parse_replies(request.body), actor=actor)
        else:
            sms_receipts_record(receipts=backend.parse_receipts(request.body), actor=actor)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"code": 1, "msg": "not understood"}, status=400)
    # What Alibaba Cloud's HTTP batch push expects back.
    return JsonResponse({"code": 0, "msg": "成功"}, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@login_not_required
@require_POST
def sms_receipts(request: HttpRequest, key: str) -> HttpResponse:
    return _callback(request, key, replies=False)


@csrf_exempt
@login_not_required
@require_POST
def sms_replies(request: HttpRequest, key: str) -> HttpResponse:
    return _callback(request, key, replies=True)
