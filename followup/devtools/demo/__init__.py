"""The demo data of ``manage.py seed_demo``: one user per role, four wards
with their rules, nurses, scripts and feed mappings, about 300 discharges with
five weeks of calls and their outcomes, self-report links for cardiology
(messages in the outbox), and two quarters of complaints.

Each step is idempotent; they run in this order inside one transaction (the
command's), each writing one line of what it did to ``stdout``."""

from . import call_scripts, complaints, departments, discharges, outcomes, self_report, users, ward_mappings
from .users import DEMO_USERS

__all__ = ["DEMO_USERS", "SEEDERS", "seed"]

SEEDERS = [
    users.seed_users,
    departments.seed_departments,
    call_scripts.seed,
    ward_mappings.seed_ward_mappings,
    discharges.seed,
    outcomes.seed,
    self_report.seed,
    complaints.seed,
]


def seed(stdout) -> None:
    for step in SEEDERS:
        step(stdout)
