"""Models of the calls app, one module per part of the domain:

- ``org``: departments (wards) and their staff
- ``patients``: patients and their discharges
- ``scripts``: call scripts, their versions, talking points and questions,
  and the satisfaction items patients score
- ``rules``: follow-up rules and their ordered steps
- ``followup_calls``: scheduled calls, attempts, answers, alerts, spot checks
- ``deaths``: deaths recorded (and reversed), with the calls each cancelled
- ``dashboard``: the dashboard's summary tables (kept by PostgreSQL triggers)
- ``self_report``: questionnaire links by text message, their messages and opt-outs
- ``drafts``: what a nurse typed on a call and has not saved yet
"""

from .dashboard import DashboardDay, DashboardItemDay, DashboardStay, DashboardStayDay
from .deaths import DeathRecord
from .drafts import CallDraft
from .followup_calls import CallAnswer, CallAttempt, ClinicalAlert, FollowUpCall, ItemScore, SpotCheck
from .org import Department
from .patients import Discharge, Patient, Visit
from .rules import FollowUpRule, RuleStep
from .scripts import CallScript, Question, SatisfactionItem, ScriptVersion, TalkingPoint
from .self_report import SelfReportLink, SelfReportMessage, SelfReportOptOut

__all__ = [
    "CallAnswer",
    "CallAttempt",
    "CallDraft",
    "CallScript",
    "ClinicalAlert",
    "DashboardDay",
    "DashboardItemDay",
    "DashboardStay",
    "DashboardStayDay",
    "DeathRecord",
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
    "SelfReportLink",
    "SelfReportMessage",
    "SelfReportOptOut",
    "SpotCheck",
    "TalkingPoint",
    "Visit",
]
