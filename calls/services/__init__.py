"""Every write a user or a task can cause, one function per use case:

- ``discharges``: registering and importing discharges, readmission (issue 3)
- ``records``: corrections of patients, stays and calls from the admin and the feeds
- ``cancellation``: cancelling open calls: deceased, refusal, readmission, cancelled stay
- ``queue``: generating the weekly call queue (issue 3)
- ``scripts``: script versions: publish, duplicate, import/export (issue 4)
- ``call_work``: attempts, completion, deceased path, alerts, reassignment (issue 5)
- ``spot_checks``: weekly sampling and verdicts (issue 7)
"""

from .queue import generate_calls  # noqa: F401  (calls.services.generate_calls, as the issue names it)
