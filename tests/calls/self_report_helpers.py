"""Builders shared by the self-report tests: a cardiology call due today at
16:00 whose rule step sends a link four hours before."""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from calls.models import FollowUpCall, RuleStep
from calls.self_report_tokens import token_hash
from calls.services.self_report import self_report_link_claim, self_report_message_sent
from followup.sms import SendResult
from tests.calls.call_work_helpers import make_call, scripted_version, ward_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 19)  # a Thursday, the step's calling day
NOW = dt.datetime(2026, 11, 19, 14, 0, tzinfo=SHANGHAI)


def self_report_call(*, ward=None, nurse=None, hours: int | None = 4, due=TODAY, **kwargs) -> FollowUpCall:
    """A call due ``due`` at 16:00; its step sends a link ``hours`` before."""
    kwargs.setdefault("patient__name", "Zhou Min")
    kwargs.setdefault("patient__sex", "F")
    kwargs.setdefault("patient__phone", "+8613812345678")
    ward = ward or ward_of(*([nurse] if nurse else []))
    call = make_call(department=ward, nurse=nurse, due=due, **kwargs)
    RuleStep.objects.filter(pk=call.step_id).update(send_self_report_hours_before=hours)
    call.refresh_from_db()
    return call


def scripted_self_report_call(*, nurse=None, **kwargs):
    """A self-report call with the department's published script (a red-flag
    yes/no question and an optional text question)."""
    ward = ward_of(*([nurse] if nurse else []))
    _version, chest, note = scripted_version(department=ward)
    call = self_report_call(ward=ward, nurse=nurse, **kwargs)
    return call, chest, note


def issue_link(call: FollowUpCall) -> str:
    """Create and "send" the call's link now; returns the token."""
    claim = self_report_link_claim(call=call, actor="task:test")
    assert claim.outcome == "send", claim.outcome
    self_report_message_sent(message=claim.message, result=SendResult(provider_id="test-1"), actor="task:test")
    assert claim.link.token_hash == token_hash(claim.token)
    return claim.token


def outbox_messages(folder: Path) -> list[dict]:
    if not folder.exists():
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
