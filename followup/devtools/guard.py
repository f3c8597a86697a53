"""The developer tools write only into a developer's database.

seed_demo, load_test and the benchmarks write into whatever DATABASE_URL
points at. Before writing, each calls ``claim_database``, which decides
simply:

- the database holds *real data* when it has patients, discharges or
  complaints and no developer tool has written into it before (no
  ``DeveloperRun`` row). The tool then refuses with a CommandError, unless
  ``--force``: the developer's word that this is a scratch database;
- otherwise (an empty database, with only what ``migrate`` creates, or one a
  tool already filled) the tool goes on.

Either way a run that goes on adds a ``DeveloperRun`` row: from then on the
database counts as a developer's, for every tool. So the check cannot tell a
hospital's records added later to a database a tool once wrote into: never
turn a demo or benchmark database into a hospital's.
"""

from django.core.management.base import CommandError
from django.db import connection

from calls.models import Discharge, Patient
from complaints.models import Complaint

from .models import DeveloperRun

REAL_DATA = (("patients", Patient), ("discharges", Discharge), ("complaints", Complaint))


def real_data() -> list[str]:
    """The kinds of rows (patients, discharges, complaints) the database holds
    that no developer tool put there; empty when there are none."""
    if DeveloperRun.objects.exists():
        return []
    return [name for name, model in REAL_DATA if model.objects.exists()]


def claim_database(*, command: str, force: bool) -> None:
    """Refuse a database with real data unless ``force``; mark the database
    as a developer's. Call it right before the first write."""
    found = real_data()
    if found and not force:
        raise CommandError(
            f"{command} refuses to write into the database {connection.settings_dict['NAME']}: it holds "
            f"{_listed(found)} that no developer tool created, which looks like a hospital's records. "
            "Point DATABASE_URL at a database of its own, or pass --force if this one is a scratch database "
            "(the developer tools then take it for one from now on)."
        )
    DeveloperRun.objects.create(command=command)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def add_force_argument(parser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help=(
            "write even into a database that holds patients, discharges or complaints no developer tool created, "
            "and take it for a developer's from now on"
        ),
    )
