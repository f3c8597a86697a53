"""The FHIR endpoint for hospital systems that push: POST a Bundle, get an
OperationOutcome; GET ``metadata`` for the CapabilityStatement.

Each sending system has its own bearer token (admin: "Sending systems");
the token alone says who sends, and that sender's ward mappings and patient
classes apply. No session and no CSRF: machines, not browsers, call it."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .fhir import INPATIENT_CLASSES
from .models import FeedSender, InboundMessage
from .services import feed_sender_by_token, fhir_payload_receive

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"


def operation_outcome(issues: list[tuple[str, str, str]], status: int) -> JsonResponse:
    """issues: (severity, code, diagnostics) triples."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": s, "code": c, "diagnostics": d} for s, c, d in issues],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


def _sender(request) -> FeedSender | None:
    """The active sending system whose token the request carries, or None."""
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return feed_sender_by_token(token.strip())


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt
@login_not_required
@require_POST
def fhir_bundle(request):
    sender = _sender(request)
    if sender is None:
        response = operation_outcome([("error", "login", _("A valid API token is required."))], status=401)
        response["WWW-Authenticate"] = 'Bearer realm="interop"'
        return response
    request.feed_sender = sender.name  # the audit trail's name for a refusal below
    limit = settings.INTEROP_FHIR_MAX_BYTES
    too_large = operation_outcome(
        [("error", "too-costly", _("The bundle is larger than %(limit)s bytes.") % {"limit": limit})], status=413
    )
    if _content_length(request) > limit:
        return too_large  # refused before a byte of the body is read
    # Read the stream ourselves, never more than the limit and one byte:
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for forms, not bundles.
    body = request.read(limit + 1)
    if len(body) > limit:
        return too_large
    try:
        payload = body.decode("utf-8-sig")
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return operation_outcome([("error", "structure", _("The body is not UTF-8 JSON."))], status=400)
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return operation_outcome([("error", "structure", _("The body is not a FHIR Bundle."))], status=400)
    message, outcome = fhir_payload_receive(payload=payload, sender=sender.name)
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


@login_not_required
@require_GET
def fhir_metadata(request):
    """What the endpoint accepts, as FHIR's capabilities interaction says
    (GET [base]/metadata): no patient data and no sender's name, so it is
    answered without a token, as FHIR servers do."""
    limit = settings.INTEROP_FHIR_MAX_BYTES
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-30",
        "kind": "instance",
        "software": {"name": "Follow-up desk"},
        "implementation": {
            "description": "Discharges pushed by the hospital's systems, for post-discharge follow-up calls",
            "url": request.build_absolute_uri(request.path.removesuffix("metadata")),
        },
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"POST a Bundle (any type) of at most {limit} bytes to [base]/Bundle; the answer is an "
                    "OperationOutcome: 200 with what was created or updated, 422 with every problem (nothing "
                    "changed), 401 without a valid token, 413 above the size limit."
                ),
                "security": {
                    "cors": False,
                    "description": (
                        "Authorization: Bearer <token>. Each sending system has its own token, issued by the "
                        "desk's administrator; the token names the sender, whose ward mappings and patient "
                        "classes apply."
                    ),
                },
                "resource": [
                    {
                        "type": "Bundle",
                        "interaction": [{"code": "create"}],
                        "documentation": "Read whole; all of it is registered or none of it.",
                    },
                    {
                        "type": "Encounter",
                        "documentation": (
                            "Each finished Encounter (period.end set, status not cancelled, entered-in-error or "
                            f"planned) of class {', '.join(INPATIENT_CLASSES)}, unless the sender's settings name "
                            "other classes, becomes a discharge: period.start the admission, period.end the "
                            "discharge, location or serviceProvider the ward (through the ward mapping), "
                            "hospitalization.dischargeDisposition exp or 20: died in hospital."
                        ),
                    },
                    {
                        "type": "Patient",
                        "documentation": (
                            "The Encounter's subject: identifier of type MR (the MRN, required), name (required), "
                            "gender, birthDate, telecom phone, deceasedDateTime."
                        ),
                    },
                    {"type": "Condition", "documentation": "Of the Encounter: the diagnosis (ICD-10 coding if any)."},
                    {"type": "Practitioner", "documentation": "The attender (ATND), else the primary performer."},
                    {"type": "Location", "documentation": "Its name is looked up in the ward mapping."},
                    {"type": "Organization", "documentation": "serviceProvider: looked up in the ward mapping."},
                ],
            }
        ],
    }
    return JsonResponse(statement, content_type=FHIR_JSON)
