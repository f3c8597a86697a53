from celery import shared_task

from . import services


@shared_task(name="complaints.check_sla_breaches")
def check_sla_breaches() -> int:
    """Flag late complaints and notify; safe to run twice (flags once)."""
    return services.complaint_flag_sla_breaches()


@shared_task(name="complaints.alert_overdue_promises")
def alert_overdue_promises() -> int:
    """Alert owner and officers of promises past due; safe to run twice (alerts once)."""
    return services.promise_alert_overdue()
