"""The nurse's own draft of a call (calls.services.drafts writes them)."""

from django import forms

from followup.models import User

from ..models import CallDraft, FollowUpCall


def call_draft_of(*, call: FollowUpCall, user: User) -> CallDraft | None:
    """``user``'s draft of ``call`` (a call she was allowed to open, from
    followup.access), if the call is still open: nobody sees another's."""
    if not call.is_open or not getattr(user, "is_authenticated", False):
        return None
    return CallDraft.objects.filter(call=call, nurse=user).first()


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
