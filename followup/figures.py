"""Shares as the desk's reports show them, shared by the dashboard (calls)
and the complaint figures (complaints)."""

from dataclasses import dataclass

from django.conf import settings


def min_n() -> int:
    return settings.DASHBOARD_MIN_N


@dataclass(frozen=True)
class Rate:
    """A share with its n (the denominator). Below DASHBOARD_MIN_N it has no
    percentage: the page says "too few"."""

    num: int
    n: int

    @property
    def too_few(self) -> bool:
        return self.n < min_n() or self.n == 0

    @property
    def percent(self) -> float | None:
        if self.too_few:
            return None
        return round(100 * self.num / self.n, 1)
