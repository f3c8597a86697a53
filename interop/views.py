"""The FHIR endpoint for hospital systems that push: POST a Bundle, get an
OperationOutcome. Token auth (Authorization: Bearer <INTEROP_API_TOKEN>), no
session and no CSRF: machines, not browsers, call it. The X-Sender header
must be one of INTEROP_API_SENDERS when that is set."""

import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import InboundMessage
from .services import fhir_payload_receive

FHIR_JSON = "application/fhir+json"


def operation_outcome(issues: list[tuple[str, str, str]], status: int) -> JsonResponse:
    """issues: (severity, code, diagnostics) triples."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": s, "code": c, "diagnostics": d} for s, c, d in issues],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


def _token_ok(request) -> bool:
    expected = settings.INTEROP_API_TOKEN
    given = request.headers.get("Authorization", "")
    scheme, _space, token = given.partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8"))
    )


@csrf_exempt
@login_not_required
@require_POST
def fhir_bundle(request):
    if not _token_ok(request):
        response = operation_outcome([("error", "login", _("A valid API token is required."))], status=401)
        response["WWW-Authenticate"] = 'Bearer realm="interop"'
        return response
    sender = request.headers.get("X-Sender", "")[:100] or "api"
    if settings.INTEROP_API_SENDERS and sender not in settings.INTEROP_API_SENDERS:
        return operation_outcome([("error", "forbidden", _("This sender may not push bundles here."))], status=403)
    limit = settings.INTEROP_FHIR_MAX_BYTES
    # Read the stream ourselves: DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for forms, not bundles.
    body = request.read(limit + 1)
    if len(body) > limit:
        return operation_outcome(
            [("error", "too-costly", _("The bundle is larger than %(limit)s bytes.") % {"limit": limit})], status=413
        )
    try:
        payload = body.decode("utf-8-sig")
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return operation_outcome([("error", "structure", _("The body is not UTF-8 JSON."))], status=400)
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return operation_outcome([("error", "structure", _("The body is not a FHIR Bundle."))], status=400)
    message, outcome = fhir_payload_receive(payload=payload, sender=sender)
    if message.status == InboundMessage.Status.ERROR:
        issues = [("error", "processing", line) for line in message.error.splitlines()]
        return operation_outcome(issues, status=422)
    issues = []
    for discharge, created in outcome.discharges:
        sentence = (
            _("Encounter/%(id)s: discharge created for MRN %(mrn)s.")
            if created
            else _("Encounter/%(id)s: discharge updated for MRN %(mrn)s.")
        )
        text = sentence % {"id": discharge.source_reference, "mrn": discharge.patient.mrn}
        issues.append(("information", "informational", text))
    issues += [("warning", "informational", line) for line in message.warnings.splitlines()]
    if not issues:
        issues = [("information", "informational", _("Nothing to do."))]
    return operation_outcome(issues, status=200)
