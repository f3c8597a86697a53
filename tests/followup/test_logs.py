"""Tokens that travel in URLs never reach a log in clear (followup/logs.py):
a self-report link's token and the SMS gateway's callback key, in Django's
loggers and in gunicorn's access log."""

import datetime as dt
import logging

from followup.logs import GunicornLogger, HideTokens, hide_tokens

TOKEN = "Ab3_-defghijklmnopqrstuVWXYZ012"


def test_hide_tokens_keeps_the_route_and_drops_the_secret():
    assert hide_tokens(f"GET /r/{TOKEN} HTTP/1.1") == "GET /r/*** HTTP/1.1"
    assert hide_tokens("POST /sms/k3y-secret/receipts/ HTTP/1.1") == "POST /sms/***/receipts/ HTTP/1.1"
    assert hide_tokens("GET /r/ HTTP/1.1") == "GET /r/ HTTP/1.1"
    assert hide_tokens("GET /calls/12/ HTTP/1.1") == "GET /calls/12/ HTTP/1.1"


def test_the_filter_rewrites_the_message_and_its_arguments():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/r/{TOKEN}",), None)
    HideTokens().filter(record)
    assert record.getMessage() == "Not Found: /r/***"


def test_gunicorns_access_log_atoms_hide_the_token():
    class Config:
        access_log_format = '%(h)s "%(r)s" %(s)s'
        errorlog = "-"
        loglevel = "info"
        accesslog = None
        syslog = False
        disable_redirect_access_to_syslog = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        capture_output = False
        user = 0
        group = 0
        umask = 0
        statsd_host = None
        dogstatsd_tags = ""
        statsd_prefix = ""
        env = {}

    class Response:
        status = "404 Not Found"
        headers = []
        response_length = 10
        sent = 10

    class Request:
        headers = []
        path = f"/r/{TOKEN}"
        query = ""
        method = "GET"
        uri = f"/r/{TOKEN}"
        version = (1, 1)

    logger = GunicornLogger.__new__(GunicornLogger)
    logger.cfg = Config()
    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/r/{TOKEN}",
        "PATH_INFO": f"/r/{TOKEN}",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://desk/r/{TOKEN}",
    }
    atoms = logger.atoms(Response(), Request(), environ, dt.timedelta(seconds=0.01))
    assert atoms["r"] == "GET /r/*** HTTP/1.1"
    assert atoms["U"] == "/r/***"
    assert atoms["f"] == "https://desk/r/***"
    assert TOKEN not in repr(atoms)
