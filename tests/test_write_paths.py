"""Services are the only write path: a model that has a service is never
saved, created, updated or deleted anywhere else in product code (issue:
every change is accounted for). A simple scan of the source, plus a check
that the admin pages of those models save through a service."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import ModelAdmin

from calls.models import Discharge, FollowUpCall, Patient
from complaints.models import Complaint

BASE = Path(settings.BASE_DIR)
PRODUCT_APPS = ("calls", "complaints", "interop", "followup")
SERVICED = ("Patient", "Discharge", "FollowUpCall", "Complaint", "CallDraft")
# Where writes belong (services), and the developer tools that build demo and
# benchmark data in bulk (followup/devtools: left out in production, and its
# commands refuse a database that holds a hospital's records).
ALLOWED = (
    re.compile(r"^[a-z]+/services(/|\.py$)"),
    re.compile(r"^[a-z]+/migrations/"),
    re.compile(r"^followup/devtools/"),
)
WRITE = re.compile(
    r"\b(?P<model>" + "|".join(SERVICED) + r")\.objects\b[^\n]*?\.(create|update|delete|bulk_create|bulk_update|"
    r"get_or_create|update_or_create)\("
)
SAVE_OF = re.compile(r"\b(patient|discharge|call|stay|complaint|draft)\.(save|delete)\(")


def product_files():
    for app in PRODUCT_APPS:
        for path in sorted((BASE / app).rglob("*.py")):
            relative = path.relative_to(BASE).as_posix()
            if not any(rule.search(relative) for rule in ALLOWED):
                yield relative, path.read_text(encoding="utf-8")


def test_no_model_with_a_service_is_written_outside_the_services():
    offenders = [
        f"{name}:{number}: {line.strip()}"
        for name, text in product_files()
        for number, line in enumerate(text.splitlines(), start=1)
        if WRITE.search(line) or SAVE_OF.search(line)
    ]
    assert offenders == []


def test_the_scan_would_find_a_write_outside_the_services():
    assert WRITE.search("        Patient.objects.filter(pk=1).update(name='x')")
    assert WRITE.search("FollowUpCall.objects.create(discharge=d)")
    assert SAVE_OF.search("    patient.save(update_fields=['name'])")
    assert not WRITE.search("Patient.objects.filter(mrn=mrn).first()")


def test_the_admin_of_each_serviced_model_never_saves_by_itself():
    for model in (Patient, Discharge, FollowUpCall, Complaint):
        model_admin = admin.site._registry[model]
        cls = type(model_admin)
        read_only = (
            cls.has_change_permission is not ModelAdmin.has_change_permission
            and model_admin.has_change_permission(None) is False
            and model_admin.has_add_permission(None) is False
        )
        assert read_only or cls.save_model is not ModelAdmin.save_model, model.__name__
