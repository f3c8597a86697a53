from celery import shared_task

from . import services


@shared_task(name="complaints.check_sla_breaches")
def check_sla_breaches() -> int:
    """Flag late complaints and notify; safe to run twice (flags once)."""
    return services.complaint_flag_sla_breaches()
