"""Admin of the calls app, one module per part:

- ``org_patients``: departments, patients, discharges, rules (issue 3)
- ``scripts``: call scripts, versions and satisfaction items (issue 4)
- ``followup_calls``: calls, attempts, alerts, spot checks (issues 5, 7)
- ``users``: the desk's users, their roles and wards
"""

from . import followup_calls, org_patients, scripts, users  # noqa: F401
