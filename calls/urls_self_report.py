"""The addresses reachable without a log-in that self-report adds
(docs/self-report.md): the link in the text message, the questionnaire,
and the SMS gateway's receipts and replies."""

from django.urls import path

from .views import self_report

app_name = "self_report"

urlpatterns = [
    path("r/", self_report.questionnaire, name="form"),
    path("r/<str:token>", self_report.open_link, name="open"),
    path("sms/<str:key>/receipts/", self_report.sms_receipts, name="sms_receipts"),
    path("sms/<str:key>/replies/", self_report.sms_replies, name="sms_replies"),
]
