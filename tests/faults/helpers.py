"""Builders shared by the fault tests."""

from calls.models import FollowUpCall


def attempt_post(call: FollowUpCall, result: str) -> dict:
    return {"attempt-expected_version": call.version, "attempt-result": result, "attempt-note": ""}


def completion_post(call: FollowUpCall, question, summary: str = "Recovering well, taking medicines.") -> dict:
    return {
        f"q_{question.pk}": "no",
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        "outcome-summary": summary,
        "outcome-duration": "6:00",
        "outcome-next_call_on": "",
    }
