"""Settings for the follow-up call desk.

Everything that differs between a laptop and a hospital's servers comes from
environment variables (django-environ). With nothing set the app runs on a
SQLite file and a file-system Celery broker under ``var/``.

It fails closed: DEBUG is off unless DEBUG=true is set, and with DEBUG off
start-up stops without a SECRET_KEY. ``make run`` and the tests (tests/settings.py)
set DEBUG=true themselves. Production sets SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL and CELERY_BROKER_URL (see README.md, "Running in production").
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional; a missing file is ignored

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# Off unless asked for: a server that forgot the variable never shows debug pages.
DEBUG = env.bool("DEBUG", default=False)

# A development key is fine on a laptop; a server must bring its own.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-key-not-for-production-0123456789abcdefghijklmnop")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
            "and pass it as the SECRET_KEY environment variable."
        )

# The developer tools (followup/devtools: seed_demo, the benchmarks, the load
# test) are installed with DEBUG unless DEVTOOLS says otherwise; production
# (DEBUG off, DEVTOOLS unset) leaves them out.
DEVTOOLS = env.bool("DEVTOOLS", default=DEBUG)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "followup",
    "calls",
    "complaints",
    "interop",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_celery_beat",
    "axes",
    "csp",
]
if DEVTOOLS:
    INSTALLED_APPS.append("followup.devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy everywhere; Cache-Control: no-store on all but static files.
    "followup.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, but a form sent after the session ended returns to its page after log-in (followup/sessions.py).
    "followup.sessions.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Logs out a session older than SESSION_ABSOLUTE_SECONDS, however active.
    "followup.sessions.SessionLifetimeMiddleware",
    # A NUL character anywhere in the request: the readable 400 page, not a 500.
    "followup.middleware.RejectNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "followup.audit.AuditMiddleware",
    # Last, as django-axes asks: it turns lockouts into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "followup.urls"
WSGI_APPLICATION = "followup.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "followup.context_processors.navigation",
            ],
        },
    },
]

# Django's widget templates, the plainest widgets written out in Python (followup/form_renderer.py).
FORM_RENDERER = "followup.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DB_PREPARED_STATEMENTS", default=True
):
    # The statements the pages compile once (followup/prepared.py) are
    # prepared on the connection, so PostgreSQL may keep their plans. Django
    # prepares none of its own queries. Behind a pooler that cannot keep
    # prepared statements (PgBouncer in transaction mode before 1.21), set
    # DB_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file: wait for locks
    # instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "followup.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Pinyin names with digits, keyboard runs, the hospital's and the product's names (followup/passwords.py).
    {"NAME": "followup.passwords.GuessablePasswordValidator"},
]
# Names the hospital goes by (comma-separated): passwords containing one are refused.
HOSPITAL_NAME = env.str("HOSPITAL_NAME", default="")
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses log-ins while an account is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock out a user name after repeated failures from any address, and an address
# after more failures against any accounts (password spraying): followup/lockout.py.
AXES_HANDLER = "followup.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]  # in this order: LockoutHandler reads them so
AXES_CLIENT_IP_CALLABLE = "followup.net.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Dates as hospitals write them (2026-11-23) in both languages; see followup/formats/.
FORMAT_MODULE_PATH = ["followup.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True

# --- Static and private files ------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded evidence lives outside the web root and is served only through
    # views that check permissions; there is deliberately no MEDIA_URL.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# --- Forms -------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery ----------------------------------------------------------------------------
# Default: a file-system broker under var/, so a laptop needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "celery" / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=f"file://{VAR_DIR / 'celery' / 'results'}")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection around every task unless told to reuse it; followup/celery.py
# applies CONN_MAX_AGE and the health check around each task instead (a forced close every 1000 tasks).
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tests may run tasks in-process; production never does.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: inactivity expiry
# However active, a session ends this long after its log-in (followup/sessions.py).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Largest form body (files excluded): 2.5 MB holds a complaint with several
# 20,000-character Chinese texts (followup.forms.LONG_TEXT_MAX_CHARS; 9 bytes
# a character once URL-encoded).
# Above it the readable "too large" page answers 413 (followup/errors.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Files: only views that say so take them, up to their own limit, refused
# while the body arrives (followup/uploads.py); then Django's usual handlers.
FILE_UPLOAD_HANDLERS = [
    "followup.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Debug pages hide the passwords inside DATABASE_URL, CELERY_BROKER_URL and other URLs too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "followup.errors.SafeReporterFilter"
# Reverse proxies (addresses or networks, e.g. "10.0.0.5,10.1.0.0/16") whose
# X-Forwarded-For names the client: the audit trail and the log-in lockout
# then record the client's address instead of the proxy's (followup.net).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Content Security Policy: no inline script or style anywhere; every script
# and stylesheet comes from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- E-mail ----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "dummymail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="followup@localhost")
# Where staff reach the desk: e-mails link to pages under this address. On a
# server it defaults to https:// and the first ALLOWED_HOSTS name.
_first_host = next((h.lstrip(".") for h in ALLOWED_HOSTS if h.lstrip(".") and "*" not in h), "")
SITE_URL = env.str(
    "SITE_URL", default="http://127.0.0.1:8000" if DEBUG else (f"https://{_first_host}" if _first_host else "")
).rstrip("/")

# --- Cache ---------------------------------------------------------------------------------
# The self-report form's rate limits count here: one process's memory by
# default; several web processes share Redis ("redis://127.0.0.1:6379/7").
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Self-report links and the gateway's callback key never reach a log in clear (docs/self-report.md).
    "filters": {"hide_tokens": {"()": "followup.logs.HideTokens"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["hide_tokens"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["hide_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # runserver's request lines and "Not Found: /r/..." carry the path.
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["hide_tokens"]},
    },
}

# --- Product settings ------------------------------------------------------------------------
# Region used to read phone numbers written without a country code.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="CN")
# Dashboard: a rate whose n (its denominator) is below this is shown as "too few".
DASHBOARD_MIN_N = env.int("DASHBOARD_MIN_N", default=10)
# Share of each nurse's completed calls sampled weekly for the head nurse's spot checks.
SPOT_CHECK_SHARE = env.float("SPOT_CHECK_SHARE", default=0.1)

# Readmission risk (calls.risk, docs/risk.md): LACE at or above RISK_HIGH is
# high risk, at or above RISK_MODERATE moderate. RISK_EMERGENCY_VISITS_COMPLETE
# says the feeds send every emergency visit, so none recorded means none (else
# an unreported count stays "unknown").
RISK_HIGH = env.int("RISK_HIGH", default=10)
RISK_MODERATE = env.int("RISK_MODERATE", default=5)
RISK_EMERGENCY_VISITS_COMPLETE = env.bool("RISK_EMERGENCY_VISITS_COMPLETE", default=False)
# Outcome ledger (docs/outcomes.md): an unplanned readmission has the same
# principal diagnosis compared at this many ICD-10 characters, and a principal
# code not starting with one of the planned-care prefixes.
OUTCOME_DIAGNOSIS_DEPTH = env.int("OUTCOME_DIAGNOSIS_DEPTH", default=3)
OUTCOME_PLANNED_CODES = env.list("OUTCOME_PLANNED_CODES", default=["Z51"])

# Hours the head nurse has to act on a red-flag answer before the alert is overdue.
CLINICAL_ALERT_HOURS = env.int("CLINICAL_ALERT_HOURS", default=24)

# Largest evidence file a complaint accepts (bytes).
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
# Largest file the admin's imports take (discharges CSV/XLSX, call scripts JSON).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)

# --- Hospital system feeds (interop) -----------------------------------------------------------
# FHIR: each pushing system has its own token (admin: "Sending systems"); there is no shared one.
# Largest Bundle the endpoint accepts; a larger one is refused while it arrives.
INTEROP_FHIR_MAX_BYTES = env.int("INTEROP_FHIR_MAX_BYTES", default=10 * 1024 * 1024)
# Who we say we are in the MSH of our HL7 ACKs (MSH-3 / MSH-4).
INTEROP_HL7_APPLICATION = env.str("INTEROP_HL7_APPLICATION", default="FOLLOWUP")
INTEROP_HL7_FACILITY = env.str("INTEROP_HL7_FACILITY", default="")
# The MLLP listener: addresses or networks that may connect (the interface engine's), how many
# connections at once, seconds a silent connection stays open, largest message in bytes.
INTEROP_HL7_ALLOWED_ADDRESSES = env.list("INTEROP_HL7_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
INTEROP_HL7_MAX_CONNECTIONS = env.int("INTEROP_HL7_MAX_CONNECTIONS", default=20)
INTEROP_HL7_IDLE_SECONDS = env.float("INTEROP_HL7_IDLE_SECONDS", default=300)
INTEROP_HL7_MAX_BYTES = env.int("INTEROP_HL7_MAX_BYTES", default=1024 * 1024)
# MLLP over TLS: the listener's certificate and key (PEM files); with a CA file, senders must
# present a client certificate that CA signed. Empty: plain TCP.
INTEROP_HL7_TLS_CERT = env.str("INTEROP_HL7_TLS_CERT", default="")
INTEROP_HL7_TLS_KEY = env.str("INTEROP_HL7_TLS_KEY", default="")
INTEROP_HL7_TLS_CLIENT_CA = env.str("INTEROP_HL7_TLS_CLIENT_CA", default="")

# --- Self-report by text message (docs/self-report.md) ---------------------------------------------
# Where text messages go: "file" (each under VAR_DIR/outbox/), "aliyun" (Alibaba Cloud SMS) or a dotted path.
SMS_BACKEND = env.str("SMS_BACKEND", default="file")
# The approved signature (签名) every message carries, e.g. the hospital's name.
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="")
# Alibaba Cloud SMS: the AccessKey pair, the approved template code per language
# ("zh-hans=SMS_123,en=SMS_456") and the API address.
SMS_ALIYUN_ACCESS_KEY_ID = env.str("SMS_ALIYUN_ACCESS_KEY_ID", default="")
SMS_ALIYUN_ACCESS_KEY_SECRET = env.str("SMS_ALIYUN_ACCESS_KEY_SECRET", default="")
SMS_ALIYUN_TEMPLATE_CODES = env.dict("SMS_ALIYUN_TEMPLATE_CODES", default={})
SMS_ALIYUN_ENDPOINT = env.str("SMS_ALIYUN_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
# The secret part of the addresses the gateway posts receipts and replies to; empty: they answer 404.
SMS_CALLBACK_KEY = env.str("SMS_CALLBACK_KEY", default="")
# Days a questionnaire link stays valid.
SELF_REPORT_LINK_DAYS = env.int("SELF_REPORT_LINK_DAYS", default=7)
# No message goes out between these hours (hospital time, "21:00-08:00"); empty: none.
SELF_REPORT_QUIET_HOURS = env.str("SELF_REPORT_QUIET_HOURS", default="21:00-08:00")
# Most text messages one patient gets in a day.
SELF_REPORT_DAILY_CAP = env.int("SELF_REPORT_DAILY_CAP", default=2)
# The language of a first message (the patient may switch on the form; later messages follow).
SELF_REPORT_LANGUAGE = env.str("SELF_REPORT_LANGUAGE", default="zh-hans")
# Requests to the form per hour from one address, and per link.
SELF_REPORT_RATE_PER_IP = env.int("SELF_REPORT_RATE_PER_IP", default=120)
SELF_REPORT_RATE_PER_LINK = env.int("SELF_REPORT_RATE_PER_LINK", default=60)
