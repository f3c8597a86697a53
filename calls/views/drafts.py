"""The call screen's autosave: what a nurse types is kept as her draft of the
call (calls.services.drafts; static/js/call-draft.js sends it)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from followup.roles import Role, role_required
from followup.sessions import answers_json

from ..selectors.worklist import call_for_user
from ..services.drafts import call_draft_save, draft_fields_from


def _int(value: str, *, digits: int) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= digits else None


def _typed_at(value: str) -> dt.datetime | None:
    """Milliseconds since 1970 by the browser's clock."""
    ms = _int(value, digits=13)  # up to the year 2286
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC) if ms is not None else None


@answers_json
@require_POST
@role_required(Role.NURSE, Role.HEAD_NURSE)
def call_draft(request: HttpRequest, pk: int) -> JsonResponse:
    call = call_for_user(user=request.user, pk=pk)
    version = _int(request.POST.get("outcome-expected_version", ""), digits=10)
    try:
        draft = call_draft_save(
            call=call,
            by=request.user,
            fields=draft_fields_from(request.POST),
            call_version=version,
            typed_at=_typed_at(request.POST.get("draft-typed_at", "")),
        )
    except ValidationError as error:
        status = 409 if error.code == "not_open" else 400
        return JsonResponse({"error": error.code or "invalid", "message": " ".join(error.messages)}, status=status)
    saved = time_format(timezone.localtime(draft.updated_at), "H:i")
    return JsonResponse({"saved": True, "message": _("Saved as a draft at %(time)s.") % {"time": saved}})
