"""Secrets that travel in URLs never reach a log in clear: the personal
token of a self-report link (``/r/<token>``) and the key of the SMS
gateway's callback addresses (``/sms/<key>/...``). ``HideTokens`` is a
logging filter (settings.LOGGING puts it on the console handler and on
Django's request and server loggers); ``GunicornLogger`` does the same for
gunicorn's access log (``--logger-class followup.logs.GunicornLogger``)."""

import logging
import re

# The link's token: 22 random characters and an 8-character tag (URL-safe base64).
_TOKEN_PATHS = re.compile(r"(/r/)[A-Za-z0-9_-]{4,}|(/sms/)[^/\s\"?]+")


def hide_tokens(text: str) -> str:
    """``/r/abc…`` -> ``/r/***``, ``/sms/key/report/`` -> ``/sms/***/report/``."""
    return _TOKEN_PATHS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def _hidden(value):
    return hide_tokens(value) if isinstance(value, str) else value


class HideTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = hide_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_hidden(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _hidden(value) for key, value in record.args.items()}
        return True


try:  # gunicorn is a production dependency; a laptop without it still imports this module
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with every value the access log may print (the
    request line, path, referrer, environment variables) passed through
    hide_tokens."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: _hidden(value) for key, value in atoms.items()}
