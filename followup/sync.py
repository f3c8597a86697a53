"""The rows the product needs in every database, kept in step with the code
after each ``migrate``: the role groups and their permissions
(followup.roles), the periodic tasks (followup.schedules), and what each
app names in its AppConfig's ``sync_steps``: the satisfaction items
(calls.defaults), the complaint categories, SLA per severity and working
calendar (complaints.defaults). Apps name their steps, so followup imports
none of them.

``sync_all()`` is the one place that writes them. FollowupConfig.ready
connects it to ``post_migrate`` once, for the last installed app with
models, so it runs once per ``migrate`` (even one with nothing to apply),
after the migrations, with the models as they left the database. Django
sends the same signal after ``flush``, which ends every transactional
test, so the test database gets these rows back the same way (a test marked
``serialized_rollback`` gets no signal: it restores its own copy).

Running it again changes nothing it does not have to:

- a role group holds exactly the permissions ROLE_PERMISSIONS lists; the
  code owns them, so an edit to a role group in the admin is undone at the
  next ``migrate``;
- every other row is created only when missing (a periodic task by name,
  an item or a category by code, an SLA policy by severity, the calendar
  when there is none) and never changed afterwards: an admin's edits stay.
  A deleted one comes back at the next ``migrate``, so switch a periodic
  task off with "enabled" and an item or a category with "active".
"""

from collections.abc import Callable

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.module_loading import import_string

from .roles import sync_roles
from .schedules import sync_periodic_tasks

# Each step with the models it reads and writes: a step whose models the
# database does not have (``migrate calls zero``, say) is skipped.
OWN_STEPS: list[tuple[Callable[..., None], tuple[str, ...]]] = [
    (sync_roles, ("contenttypes.ContentType", "auth.Permission", "auth.Group")),
    (
        sync_periodic_tasks,
        ("django_celery_beat.CrontabSchedule", "django_celery_beat.PeriodicTask", "django_celery_beat.PeriodicTasks"),
    ),
]


def steps() -> list[tuple[Callable[..., None], tuple[str, ...]]]:
    """Followup's own steps, then each installed app's ``sync_steps`` in
    INSTALLED_APPS order."""
    found = list(OWN_STEPS)
    for config in global_apps.get_app_configs():
        for path, models in getattr(config, "sync_steps", ()):
            found.append((import_string(path), tuple(models)))
    return found


def sync_all(apps=global_apps, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create or bring up to date roles, periodic tasks and defaults.

    ``apps`` is the registry to take the models from: the one ``migrate``
    passes (the models as the migrations left them, without the real
    models' ``save()`` or signals) or the live one.
    """
    with transaction.atomic(using=using):
        for step, models in steps():
            if all(_in_state(apps, model) for model in models):
                step(apps, using=using)


def sync_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver: ``migrate`` passes its ``apps``, ``flush`` none."""
    sync_all(apps, using=using)


def _in_state(apps, model: str) -> bool:
    try:
        apps.get_model(model)
    except LookupError:
        return False
    return True
