"""Rapport's settings: the one place that reads the environment.

Every integration has one switch: DATABASE_URL (unset: a SQLite file under var/), REDIS_URL (unset:
the in-memory channel layer and a local-memory cache, one process). With no environment at all the
service runs embedded; production refuses to start without the values it needs and names them.
docs/deploy.md lists every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from backend.core.version import API_VERSION

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


# With no environment at all Rapport runs embedded, for development (SQLite, in-memory layer, DEBUG on).
# As soon as a real database is configured, DEBUG is off unless explicitly turned on.
DEBUG = env_bool("DEBUG", not os.environ.get("DATABASE_URL"))


def required_secret(name: str, value: str, *, what: str, development_value: str) -> str:
    """A secret production cannot start without (naming it); development gets a fixed, useless one."""
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Set {name} to {what} "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for development."
        )
    return development_value


SECRET_KEY = required_secret(
    "SECRET_KEY", os.environ.get("SECRET_KEY", ""), what="a long random value",
    development_value="dev-only-insecure-key-never-used-when-DEBUG-is-off",
)
# The key of the keyed hash (HMAC-SHA256) behind every pseudonym and date shift in evaluation exports
# (backend/evaluation/pseudonyms.py). Never exported. Changing it gives everyone new pseudonyms, so
# exports made before and after cannot be linked: keep it as long as evaluations need to link.
EVALUATION_PSEUDONYM_KEY = required_secret(
    "EVALUATION_PSEUDONYM_KEY", os.environ.get("EVALUATION_PSEUDONYM_KEY", ""),
    what="a long random value, different from SECRET_KEY and kept apart from the database",
    development_value="dev-only-pseudonym-key-never-used-when-DEBUG-is-off",
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set. Set it to the host names the service answers on, comma-separated.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Two-factor sign-in (TOTP apps and single-use recovery codes), docs/deploy.md "Two-factor sign-in".
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    # History of mutable records (backend/audit/history.py): PostgreSQL triggers keep old values.
    "pgtrigger",
    "pghistory",
    # The durable job queue (procrastinate): jobs in PostgreSQL tables its migrations create (docs/messaging.md).
    "procrastinate.contrib.django",
    # Rapport's apps, lowest layer first (docs/architecture.md).
    "backend.accounts",
    "backend.audit",
    "backend.consent",
    "backend.sessions.apps.TeleSessionsConfig",
    "backend.groups.apps.GroupsConfig",
    "backend.outcomes",
    "backend.network",
    "backend.relatives",
    "backend.college.apps.CollegeConfig",
    "backend.peerwork.apps.PeerWorkConfig",
    "backend.messaging",
    "backend.evaluation",
    "backend.administration",
    "backend.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: names who makes each change in the history of mutable records.
    "backend.audit.history.HistoryContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Every identifiable read and every refused request for one leaves an audit event (backend/audit/reads.py).
    "backend.audit.reads.AuditReadsMiddleware",
    "backend.core.middleware.BoundaryHeadersMiddleware",
    # Last, so it sees the outcome of every login attempt (failed-login throttle).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backend.outcomes.context_processors.open_risk_flags",
                "backend.accounts.context_processors.care_team",
            ],
            # NHS-style times and {% phone_team %} in every template (backend/core/templating.py).
            "builtins": ["backend.core.templating"],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'rapport.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
# A pool of PostgreSQL connections (psycopg_pool) instead of a new connection per request or socket
# handshake: opening one costs several milliseconds of PostgreSQL's time, which is what made 1,000 sockets
# take 40 s to join (issue 12, docs/performance.md). DATABASE_POOL_MAX_SIZE connections at most per
# process; 0 (the default) keeps Django's connection per request. docs/deploy.md says how to size it.
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0"))
if DATABASE_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_MAX_SIZE, "timeout": 10}
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pooled connection goes back to the pool instead (Django requires 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# procrastinate's schema is PostgreSQL functions; the embedded SQLite database has no use for it (the
# queue is then in memory, run inside the server process: docs/deploy.md "Messages").
QUEUE_IN_MEMORY = DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
if QUEUE_IN_MEMORY:
    MIGRATION_MODULES = {"procrastinate": None}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: one PUBLISH per message and receives pushed to each process, so a relay costs
            # one round trip (the list-based layer costs about eight). Delivery is at most once, as with
            # any Channels layer: signalling acknowledges what matters (docs/signalling.md). Bounded per
            # consumer (backend/core/channel_layers.py): at most `capacity` messages and `max_queued_bytes`
            # wait for one consumer; beyond that they are dropped, so a slow client cannot grow memory.
            "BACKEND": "backend.core.channel_layers.BoundedRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "rapport"),
                       "capacity": 100, "max_queued_bytes": 1024 * 1024},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts and authentication ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# API tokens expire; clients log in again (docs/api.md).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("TOKEN_TTL_HOURS", "10"))),
    "AUTH_HEADER_PREFIX": "Token",
}

# Failed-login throttle (django-axes): after LOGIN_FAILURE_LIMIT failures for one email from one
# address, further attempts are refused for LOGIN_COOLOFF_MINUTES, whatever the password.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backend.accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "backend.accounts.lockout.attempted_email"
AXES_VERBOSE = False

# Set-password links: a forgotten-password link lasts PASSWORD_RESET_MINUTES, an invitation
# INVITATION_DAYS. Both are Django's token generator: one use, since setting the password changes the hash.
PASSWORD_RESET_TIMEOUT = 60 * int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
INVITATION_TIMEOUT = 24 * 3600 * int(os.environ.get("INVITATION_DAYS", "7"))
# A password that was right waits this long for its second factor (web and API alike).
TWO_FACTOR_CHALLENGE_SECONDS = int(os.environ.get("TWO_FACTOR_CHALLENGE_SECONDS", "300"))
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Rapport")
# Wrong codes are throttled by django-axes with wrong passwords (one count, one lockout), not by
# django-otp's own per-device delay, which would refuse a right code typed a second after a wrong one.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# --- Email ----------------------------------------------------------------------------------------
# One switch, EMAIL_URL: smtp://user:password@host:587 (STARTTLS with smtp+tls://, implicit TLS with
# smtps://), or console:// to print messages (what `make run` uses). Without it the usual Django
# variables apply (EMAIL_HOST, EMAIL_PORT, ...); in development (DEBUG) messages go to the console.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
if EMAIL_URL:
    from urllib.parse import unquote, urlsplit

    _email = urlsplit(EMAIL_URL)
    if _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    elif _email.scheme in {"smtp", "smtp+tls", "smtps"}:
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[_email.scheme]
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_TLS = _email.scheme == "smtp+tls"
        EMAIL_USE_SSL = _email.scheme == "smtps"
    else:
        raise ImproperlyConfigured(f"EMAIL_URL has an unknown scheme {_email.scheme!r}: use smtp://, smtp+tls://, smtps:// or console://.")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rapport <rapport@localhost>")
# Where links in emails point when no request names the host (e.g. sent from a command).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Messages (SMS and email to people; docs/messaging.md, docs/deploy.md "Messages") ---------------
# Which sender each organisation uses is its OrganisationMessaging row; Notify API keys never sit in the
# database: the row names an environment variable (NOTIFY_API_KEY or NOTIFY_API_KEY_<NAME>) that holds it.
# The key an organisation uses unless its row names another variable (NOTIFY_API_KEY_<NAME>, read when sending).
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
NOTIFY_TIMEOUT_SECONDS = int(os.environ.get("NOTIFY_TIMEOUT_SECONDS", "10"))
# The bearer token Notify sends to the delivery-receipt callback (/messaging/notify/callback/); unset: refused.
NOTIFY_CALLBACK_TOKEN = os.environ.get("NOTIFY_CALLBACK_TOKEN", "")
# A send that failed for a passing reason (Notify 429/5xx, SMTP down) is retried this many times, waiting
# MESSAGE_RETRY_BASE_SECONDS, then twice as long each time (exponential backoff).
MESSAGE_RETRY_ATTEMPTS = int(os.environ.get("MESSAGE_RETRY_ATTEMPTS", "8"))
MESSAGE_RETRY_BASE_SECONDS = int(os.environ.get("MESSAGE_RETRY_BASE_SECONDS", "30"))
# A job whose worker sent no heartbeat for this long is taken as stalled (worker killed) and run again.
MESSAGE_STALLED_SECONDS = int(os.environ.get("MESSAGE_STALLED_SECONDS", "60"))
PROCRASTINATE_WORKER_DEFAULTS = {"update_heartbeat_interval": 10, "stalled_worker_timeout": MESSAGE_STALLED_SECONDS}
# --- Messages (SMS and email; docs/messaging.md) ----------------------------------------------------
# Words no text message and no email subject line may contain (a phone's lock screen or a shared
# inbox shows them): diagnoses, questionnaire names, scores, risk and the kinds of clinic. The
# default list is Rapport's own (docs/messaging.md, "Banned words", says where each group comes
# from); an organisation adds its own words on its messages page, and MESSAGE_BANNED_WORDS_EXTRA
# (comma-separated) adds words for every organisation of a deployment.
MESSAGE_BANNED_WORDS = [
    # Diagnoses and conditions
    "depression", "depressed", "anxiety", "anxious", "psychosis", "psychotic", "schizophrenia", "bipolar",
    "personality disorder", "eating disorder", "anorexia", "bulimia", "ptsd", "ocd", "adhd", "autism", "dementia",
    "self-harm", "self harm", "suicide", "suicidal", "overdose", "addiction", "alcohol", "drugs", "substance",
    "mental health", "mental illness", "diagnosis",
    # Questionnaires (the instruments in backend/outcomes/catalogue.py) and their vocabulary
    "phq-9", "phq", "gad-7", "core-10", "swemwbs", "wemwbs", "wsas", "questionnaire score",
    "score", "scores", "caseness", "severity",
    # Risk
    "risk", "crisis", "safeguarding", "sectioned", "section 136", "mental health act",
    # Kinds of clinic and service
    "early intervention", "eip", "cmht", "crisis team", "home treatment", "talking therapies", "iapt",
    "psychiatry", "psychiatric", "psychiatrist", "psychology", "psychologist", "psychotherapy", "perinatal",
    "forensic", "inpatient", "memory clinic", "gender identity", "drug and alcohol",
] + [w.strip() for w in os.environ.get("MESSAGE_BANNED_WORDS_EXTRA", "").split(",") if w.strip()]

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.accounts.authentication.TokenAuthentication",  # knox's, one query a request
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every view states who may call it.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "backend.core.schema.RapportAutoSchema",
    "EXCEPTION_HANDLER": "backend.core.errors.api_exception_handler",
    # Views with a `throttle_scope` are limited per account (per address when anonymous) to these
    # rates; others are not throttled. Counted per fixed window in Redis, one round trip a request
    # (backend/core/throttling.py). 429 in the Error shape with Retry-After. docs/deploy.md lists the variables.
    "DEFAULT_THROTTLE_CLASSES": ["backend.core.throttling.ScopedCountThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "exports": os.environ.get("THROTTLE_EXPORTS", "60/hour"),
        "telemetry": os.environ.get("THROTTLE_TELEMETRY", "120/minute"),
        "responses": os.environ.get("THROTTLE_RESPONSES", "60/minute"),
        "join_links": os.environ.get("THROTTLE_JOIN_LINKS", "30/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": (
        "Telemental health: remote sessions, consent and choice of modality, routine outcomes. "
        "Log in with POST /api/v1/auth/login/ and send the token as `Authorization: Token <token>`. "
        "Every 4xx answer has the Error shape."
    ),
    "VERSION": API_VERSION,  # backend/core/version.py, the newest entry of docs/api.md's changelog
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Without deep links each operation's summary is one button, not a button holding a link (axe:
    # nested-interactive; the links were also too small a target).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "backend.accounts.models.Role",
        "ModalityEnum": "backend.consent.models.Modality",
        "AccessEnum": "backend.consent.models.Access",
        "AppointmentKindEnum": "backend.sessions.models.Appointment.Kind",
        "DeliveryReasonEnum": "backend.sessions.models.Appointment.DeliveryReason",
        "AppointmentEventKindEnum": "backend.sessions.models.AppointmentEvent.Kind",
        "AuditActionEnum": "backend.audit.models.AuditEvent.Action",
        "ModerationDecisionEnum": "backend.relatives.serializers.MODERATION_DECISIONS",
        "ConsentDecisionEnum": "backend.consent.models.ConsentRecord.Decision",
        "AppointmentStatusEnum": "backend.sessions.models.Appointment.Status",
        "ParticipantRoleEnum": "backend.sessions.models.Participant.Role",
        "ParticipantStateEnum": "backend.sessions.models.Participant.State",
        "GroupStatusEnum": "backend.groups.models.GroupSession.Status",
        "CollegeAudienceEnum": "backend.college.models.Audience",
        "ResourceDeliveryEnum": "backend.network.models.Resource.Delivery",
        "CollegeDeliveryEnum": "backend.college.models.Delivery",
        "CollegeRunDeliveryEnum": "backend.college.models.RUN_DELIVERY",
        "CollegeRunStateEnum": "backend.college.models.CourseRun.State",
        "CollegeEnrolmentStateEnum": "backend.college.models.Enrolment.State",
        "CollegeTrainerKindEnum": "backend.college.models.TrainerRecord.Kind",
        "GroupAttendeeStateEnum": "backend.groups.models.GroupAttendee.State",
        "GroupAttendanceEnum": "backend.groups.models.GroupAttendee.Attendance",
        "CourseEndingReasonEnum": "backend.sessions.models.CourseOfCare.EndingReason",
        "ResponseModeEnum": "backend.outcomes.models.Response.Mode",
        "SubmittedModeEnum": "backend.outcomes.serializers.SUBMITTED_MODE_CHOICES",
        "ResponseStatusEnum": "backend.outcomes.models.Response.Status",
        "MeasureScheduleWhenEnum": "backend.outcomes.models.MeasureSchedule.When",
        "InstrumentScoringEnum": "backend.outcomes.models.Instrument.Scoring",
        "DateModeEnum": "backend.evaluation.pseudonyms.DateMode",
        "NetworkCategoryEnum": "backend.network.models.Category",
        "MapMemberKindEnum": "backend.network.models.MapMember.Kind",
        "MapMemberRelationshipEnum": "backend.network.models.MapMember.Relationship",
        "CarerRelationshipEnum": "backend.accounts.models.CarerLink.Relationship",
        "SignpostReasonEnum": "backend.network.models.SignpostFollowUp.Reason",
        "MessageKindEnum": "backend.messaging.models.Message.Kind",
        "MessageChannelEnum": "backend.messaging.models.Message.Channel",
        "MessageStatusEnum": "backend.messaging.models.Message.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.core.schema.add_error_responses",
        "backend.core.schema.close_exclusive_shapes",
    ],
}

# --- HTTP security -------------------------------------------------------------------------------
# HTTPS: on when the service is reached over TLS (directly or behind a TLS-terminating proxy).
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("TRUST_PROXY_HTTPS_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_SAMESITE = "Lax"

# Pages load only their own scripts and styles: no inline code, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- WebRTC (used by the sessions issue) ---------------------------------------------------------
# STUN_URLS and TURN_URLS are comma-separated (stun:host:3478, turn:host:3478?transport=udp).
# TURN_SECRET is coturn's static-auth-secret; credentials are minted per participant for TURN_TTL_SECONDS.
STUN_URLS = env_list("STUN_URLS", [])
TURN_URLS = env_list("TURN_URLS", [])
TURN_SECRET = os.environ.get("TURN_SECRET", "")
TURN_TTL_SECONDS = int(os.environ.get("TURN_TTL_SECONDS", "3600"))
# The connection test's server-side peers (aiortc): at most this many at once per server process,
# each closed after CONNECTION_TEST_SECONDS.
CONNECTION_TEST_MAX_PEERS = int(os.environ.get("CONNECTION_TEST_MAX_PEERS", "4"))
CONNECTION_TEST_SECONDS = int(os.environ.get("CONNECTION_TEST_SECONDS", "60"))
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("TURN_URLS is set but TURN_SECRET is not: set coturn's static-auth-secret.")

# --- Group sessions on Janus (backend/groups/janus.py) -------------------------------------------
# JANUS_SERVERS is comma-separated; each entry is `internal_url` or `internal_url|public_url` (the Janus HTTP API
# as Rapport's server reaches it, and as browsers reach it through the reverse proxy). Empty: groups show
# "not available on this server". JANUS_TOKEN_SECRET is Janus's token_auth_secret; JANUS_ADMIN_KEY the
# VideoRoom plugin's admin_key. Neither is ever sent to a browser.
JANUS_SERVERS = env_list("JANUS_SERVERS", [])
JANUS_TOKEN_SECRET = os.environ.get("JANUS_TOKEN_SECRET", "")
JANUS_ADMIN_KEY = os.environ.get("JANUS_ADMIN_KEY", "")
JANUS_TOKEN_TTL_SECONDS = int(os.environ.get("JANUS_TOKEN_TTL_SECONDS", str(3 * 60 * 60)))
GROUP_CAPACITY_DEFAULT = int(os.environ.get("GROUP_CAPACITY_DEFAULT", "20"))
# Recovery College (docs/college.md): the share of a run's sessions a student attends to complete it and get a
# certificate (rounded up: 0.75 of 6 sessions is 5). A college decision, not a clinical fact.
COLLEGE_COMPLETION_SHARE = float(os.environ.get("COLLEGE_COMPLETION_SHARE", "0.75"))
if not 0 < COLLEGE_COMPLETION_SHARE <= 1:
    raise ImproperlyConfigured("COLLEGE_COMPLETION_SHARE must be above 0 and at most 1.")
if JANUS_SERVERS and not (JANUS_TOKEN_SECRET and JANUS_ADMIN_KEY):
    raise ImproperlyConfigured("JANUS_SERVERS is set but JANUS_TOKEN_SECRET or JANUS_ADMIN_KEY is not: set both (docs/deploy.md).")

# --- Internationalisation and static files ------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "GB")  # a number typed without +country code (backend/core/phone.py)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "backend" / "static"]
# Janus's JavaScript library for the group call page, from Debian's libjs-janus-gateway (the same version as the
# janus package), copied into Rapport's static files by collectstatic and served by Rapport under its CSP.
JANUS_JS_DIR = Path(os.environ.get("JANUS_JS_DIR", "/usr/share/javascript/janus-gateway"))
if (JANUS_JS_DIR / "janus.js").is_file():
    STATICFILES_DIRS.append(("janus-gateway", JANUS_JS_DIR))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "backend.core.static_storage.ModuleManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The job queue's own chatter (each task registered, each job fetched) only when asked for.
    "loggers": {"procrastinate": {"level": os.environ.get("QUEUE_LOG_LEVEL", "WARNING")}},
}
