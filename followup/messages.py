"""Messages the system writes to a user, kept as a key and its values and
turned into text in the reader's language when read (a notification).

Each app that notifies registers its kinds of message here, in its
``AppConfig.ready``: a key and a function that renders the stored values in
the active language. This module imports nothing of the product, so the
followup app never depends on the apps that register with it."""

import logging
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

Renderer = Callable[[Mapping], str]
_MESSAGES: dict[str, Renderer] = {}
KEY_LENGTH = 40


def register_message(key: str, render: Renderer) -> None:
    """Make ``key`` known: ``render(params)`` returns its text in the active language."""
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"a message key has 1 to {KEY_LENGTH} characters, not {key!r}")
    _MESSAGES[key] = render


def render_message(key: str, params: Mapping | None) -> str | None:
    """The message ``key`` with ``params`` in the active language; None when
    the key is unknown or its stored values do not fit (the caller shows the
    stored text instead)."""
    render = _MESSAGES.get(key or "")
    if render is None:
        return None
    try:
        return render(params or {})
    except (KeyError, TypeError, ValueError):
        logger.warning("Message %r could not be rendered with its stored values", key)
        return None


def known_messages() -> frozenset[str]:
    return frozenset(_MESSAGES)
