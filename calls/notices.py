"""What the calls app tells a nurse in her notification list: calls a head
nurse handed to her, and a head nurse's spot-check verdict on her call (with
the comment). Stored as a key and its values (followup.services.notify) and
rendered here in the reader's language when she reads it; registered with
followup.messages by CallsConfig.ready.

The values name no patient: the link leads to the call, where the access
rules decide what she sees. Nothing is e-mailed (a comment may name the
patient)."""

from collections.abc import Mapping

from django.utils.translation import gettext, ngettext

from followup.messages import register_message

CALLS_REASSIGNED = "calls_reassigned"
SPOT_CHECK_REVIEWED = "spot_check_reviewed"
COMMENT_LENGTH = 200  # of the comment quoted in the list; the call page shows it whole


def shorten(text: str, limit: int = COMMENT_LENGTH) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis ends a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def calls_reassigned_text(params: Mapping) -> str:
    count = int(params["count"])
    values = {"by": params["by"], "count": count, "due": params["due"]}
    if count == 1:  # "the first" of one call reads wrong in Chinese too, which has one plural form
        return gettext("%(by)s gave you 1 call to make, due %(due)s.") % values
    return (
        ngettext(
            "%(by)s gave you %(count)d call to make, the first due %(due)s.",
            "%(by)s gave you %(count)d calls to make, the first due %(due)s.",
            count,
        )
        % values
    )


def spot_check_reviewed_text(params: Mapping) -> str:
    from .models import SpotCheck  # the models are ready when a message is read

    values = {"by": params["by"], "day": params["day"], "verdict": SpotCheck.Verdict(params["verdict"]).label}
    comment = params.get("comment") or ""
    if comment:
        return gettext("%(by)s checked your call of %(day)s: %(verdict)s. Comment: “%(comment)s”") % {
            **values,
            "comment": comment,
        }
    return gettext("%(by)s checked your call of %(day)s: %(verdict)s.") % values


def register() -> None:
    register_message(CALLS_REASSIGNED, calls_reassigned_text)
    register_message(SPOT_CHECK_REVIEWED, spot_check_reviewed_text)
