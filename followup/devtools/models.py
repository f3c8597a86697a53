from django.db import models

from followup.modelbase import BaseModel


class DeveloperRun(BaseModel):
    """A developer tool (seed_demo, load_test, a benchmark) wrote into this
    database. Any row marks the database as a developer's: the tools refuse
    one that holds patients, discharges or complaints and no such row
    (followup/devtools/guard.py)."""

    command = models.CharField(max_length=40)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.command} at {self.at:%Y-%m-%d %H:%M}"
