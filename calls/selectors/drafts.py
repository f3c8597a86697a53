"""The nurse's own draft of a call (calls.services.drafts writes them)."""

from django import forms

from followup.models import User
from followup.prepared import Params

from ..models import CallDraft, FollowUpCall


def call_draft_of(*, call: FollowUpCall, user: User) -> CallDraft | None:
    """``user``'s draft of ``call`` (a call she was allowed to open, from
    followup.access), if the call is still open: nobody sees another's."""
    if not call.is_open or not getattr(user, "is_authenticated", False):
        return None
    # One draft at most per call and nurse (a unique pair); compiled once (followup/prepared.py).
    p = Params(call=call.pk, nurse=user.pk)
    found = p.objects(("call-draft",), lambda: CallDraft.objects.filter(call=p["call"], nurse=p["nurse"]).order_by())
    return found[0] if found else None


def put_back(form: forms.Form, draft: CallDraft) -> forms.Form:
    """Show ``draft``'s values in an unbound ``form`` as its initial values
    (no error messages for what she has not typed yet). The hidden version is
    the one her typing started from, so a change saved meanwhile by someone
    else still comes back as a conflict."""
    for name, field in form.fields.items():
        if name == "expected_version":
            form.initial[name] = draft.call_version
            continue
        values = draft.fields.get(form.add_prefix(name))
        if values is None:
            continue
        multiple = isinstance(field, forms.MultipleChoiceField)
        form.initial[name] = list(values) if multiple else (values[0] if values else "")
    return form
