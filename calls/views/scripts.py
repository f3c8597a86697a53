from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from followup.roles import Role, role_required

from ..forms.script_answers import CallAnswersForm
from ..models import ScriptVersion
from ..selectors.scripts import script_render
from ..services.scripts import script_version_is_locked


@role_required(Role.ADMIN, Role.HEAD_NURSE)
def script_preview(request: HttpRequest, version_id: int) -> HttpResponse:
    """The version exactly as the nurse sees it on the call screen (same
    partial, an empty answers form)."""
    version = get_object_or_404(
        ScriptVersion.objects.select_related("script").prefetch_related("script__departments"), pk=version_id
    )
    script = script_render(version=version)
    return render(
        request,
        "calls/script_preview.html",
        {
            "version": version,
            "script": script,
            "answers_form": CallAnswersForm(questions=script.questions),
            "locked": script_version_is_locked(version),
        },
    )
