from celery import shared_task


@shared_task(name="followup.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": lets health checks and tests see that a worker runs tasks."""
    return "pong"
