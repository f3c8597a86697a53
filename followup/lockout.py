"""The log-in lockout (django-axes), counted two ways.

django-axes records each failed log-in as (user name, address) and locks when
the count of any of its AXES_LOCKOUT_PARAMETERS reaches AXES_FAILURE_LIMIT.
One limit for both counts would not do here:

- per user name, across addresses (``["username"]``): AXES_FAILURE_LIMIT
  (5) failures lock the account whichever address they came from, so an
  attacker cannot try five passwords from each of many addresses. The account
  stays locked from every address until the cool-off ends.
- per address (``["ip_address"]``): password spraying tries a few passwords
  against many accounts, staying under the per-account limit. A ward's
  computers often share one address (NAT), so the address gets a higher limit
  of its own, AXES_ADDRESS_FAILURE_LIMIT (30): past it, every log-in from
  that address is refused until the cool-off ends.

The address is ``followup.net.client_ip`` (AXES_CLIENT_IP_CALLABLE): behind
a proxy listed in TRUSTED_PROXIES, the client's, so clients behind one proxy
are counted apart. A successful log-in clears that user name's failures only,
never the address's count of failures against other accounts.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum

LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        by_user, by_address = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        if by_address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            # The address is locked: answer as if this account were.
            return max(by_user, get_failure_limit(request, credentials))
        return by_user

    def reset_user_attempts(self, request, credentials=None) -> int:
        by_user, _by_address = self.filter_user_attempts(request, credentials)
        count, _ = by_user.delete()
        return count
