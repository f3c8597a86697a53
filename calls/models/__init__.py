"""Models of the calls app, one module per part of the domain:

- ``org``: departments (wards) and their staff
- ``patients``: patients and their discharges
- ``scripts``: call scripts, their versions, talking points and questions,
  and the satisfaction items patients score
- ``rules``: follow-up rules and their ordered steps
- ``followup_calls``: scheduled calls, attempts, answers, alerts, spot checks
- ``dashboard``: the dashboard's summary tables (kept by PostgreSQL triggers)
"""

from .dashboard import DashboardDay, DashboardItemDay, DashboardStay, DashboardStayDay
from .followup_calls import CallAnswer, CallAttempt, ClinicalAlert, FollowUpCall, ItemScore, SpotCheck
from .org import Department
from .patients import Discharge, Patient
from .rules import FollowUpRule, RuleStep
from .scripts import CallScript, Question, SatisfactionItem, ScriptVersion, TalkingPoint

__all__ = [
    "CallAnswer",
    "CallAttempt",
    "CallScript",
    "ClinicalAlert",
    "DashboardDay",
    "DashboardItemDay",
    "DashboardStay",
    "DashboardStayDay",
    "Department",
    "Discharge",
    "FollowUpCall",
    "FollowUpRule",
    "ItemScore",
    "Patient",
    "Question",
    "RuleStep",
    "SatisfactionItem",
    "ScriptVersion",
    "SpotCheck",
    "TalkingPoint",
]
