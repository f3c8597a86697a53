"""Self-report by text message in the demo: cardiology's rule steps send a
link two hours before the call, and a few of its open calls get theirs at
once, through the file backend, so ``var/outbox/`` holds messages whose
links a newcomer can open on a phone-sized window (docs/self-report.md).

Idempotent: once a cardiology call has a link, nothing more is sent."""

from django.db.models import Q
from django.test.utils import override_settings
from django.utils import timezone

from calls.models import Department, FollowUpCall, Question, RuleStep, SelfReportLink
from calls.services.self_report import self_report_link_claim, self_report_message_sent
from followup.sms import get_backend
from followup.sms.backends.file import outbox_dir

WARD = "CARD"
HOURS_BEFORE = 2
LINKS = 5
ACTOR = "task:calls.send_self_report_link"
# Patient-facing wording of the cardiology script's questions: (start of the nurse's wording, patient's wording).
PATIENT_WORDING = [
    ("休息时有没有出现胸痛或胸闷", "不活动的时候，您有过胸口疼或胸闷吗？"),
    ("Any chest pain or tightness at rest", "When resting, have you had any pain or tightness in your chest?"),
]


def seed(stdout) -> None:
    ward = Department.objects.filter(code=WARD).first()
    if ward is None:
        return
    RuleStep.objects.filter(rule__department=ward, send_self_report_hours_before__isnull=True).update(
        send_self_report_hours_before=HOURS_BEFORE
    )
    for start, wording in PATIENT_WORDING:
        Question.objects.filter(version__script__departments=ward, text__startswith=start, patient_text="").update(
            patient_text=wording
        )
    if SelfReportLink.objects.filter(call__discharge__department=ward).exists():
        return
    today = timezone.localdate()
    calls = (
        FollowUpCall.objects.filter(
            discharge__department=ward,
            status=FollowUpCall.Status.SCHEDULED,
            attempt_count=0,
            due_date__gte=today,
            step__isnull=False,
        )
        .filter(~Q(discharge__patient__phone=""))
        .select_related("discharge__patient")
        .order_by("due_date", "pk")[:LINKS]
    )
    sent = 0
    # The demo never reaches a real gateway, and sends whatever the hour.
    with override_settings(SMS_BACKEND="file", SELF_REPORT_QUIET_HOURS="", SELF_REPORT_DAILY_CAP=10):
        backend = get_backend()
        for call in calls:
            claim = self_report_link_claim(call=call, actor=ACTOR)
            if claim.outcome != "send":
                continue
            self_report_message_sent(message=claim.message, result=backend.send(claim.sms), actor=ACTOR)
            sent += 1
    stdout.write(
        f"Self-report: cardiology sends links {HOURS_BEFORE} h before its calls; "
        f"{sent} text messages are in {outbox_dir()} (open a link at 390 px wide)."
    )
