"""The client's address, as the audit trail and the log-in lockout see it.

Behind a reverse proxy every request arrives from the proxy's address. When
``TRUSTED_PROXIES`` lists the proxies (addresses or networks), the client is
the right-most address in ``X-Forwarded-For`` that is not itself a trusted
proxy: addresses further left were written by the client and can be forged.
With the setting empty (the default) the header is ignored.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.5:443
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the person at the keyboard, or None when unknown."""
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [_address(part) for part in forwarded.split(",")] if forwarded else []
    for hop in reversed(hops):
        if hop is None:
            # A malformed entry: nothing left of it can be trusted.
            break
        if not _trusted(hop, networks):
            return str(hop)
    return str(remote)
