"""Django settings. Every value that differs between machines comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from switchboard.database import EMBEDDED_DATA_DIR, database_url, django_database_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# Signs sessions and masquerade grants. The stable development default keeps local
# sessions alive across restarts; its "django-insecure-" prefix makes `manage.py check
# --deploy` refuse it, so production must set its own.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-dev-only-key-set-DJANGO_SECRET_KEY")
# Tenant hostnames are arbitrary FQDNs added at run time; the tenant middleware answers
# 404 for any host that is not a known domain, which is the real host check.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "*")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # The REST API (switchboard/api/, every app's api/): list filters, the OpenAPI
    # document and its two viewers, served from our static files (no CDN).
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "carriers",
    "fsconf",
    "fsnodes",
    "callcontrol",
    # Call records (cdr/): their table is platform-wide, partitioned by month.
    "cdr",
    # Webhooks per account (webhooks/): platform-wide rows keyed by account, like numbers.
    "webhooks",
    # Sign-in throttling (django-axes; tenants/throttling.py): its attempt table is
    # platform-wide, like the users.
    "tenants.signin_apps.SignInThrottlingConfig",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "pbx",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Account"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# Every new tenant schema is cloned from this one (kept migrated by migrate_all).
TENANT_TEMPLATE_SCHEMA = "tenant_template"
# Ready-made copies of the template, so creating an account is a rename (tenants.provisioning).
TENANT_SPARE_SCHEMAS = int(os.environ.get("SWITCHBOARD_SPARE_SCHEMAS", "2"))
AUTH_USER_MODEL = "tenants.User"
# Issue SET search_path only when the schema changes, not before every query: the xml_curl
# hot path stays in the public schema (its tenant lookups name their schema), so this
# saves a round trip per query.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "fsconf.middleware.FreeswitchShortcutMiddleware",
    "cdr.middleware.CallRecordShortcutMiddleware",
    # While PostgreSQL is unreachable: 503 with a page and Retry-After, logged once
    # (before the tenant middleware, whose hostname lookup is the first query).
    "switchboard.outage.DatabaseOutageMiddleware",
    "tenants.middleware.AccountTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.sessions.SessionTenantBindingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a sign-in refused by the throttle into HTTP 429 (tenants.throttling.lockout_response).
    "axes.middleware.AxesMiddleware",
    # request.htmx: the portal's lists answer an htmx request with their table only.
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "switchboard.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "switchboard.urls_public"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pbx.portal.context.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "switchboard.wsgi.application"

DATABASES = {"default": django_database_config(database_url())}
# django-tenants' backend built on ours: every database wait bounded, and a breaker that
# answers at once while PostgreSQL is unreachable (common.dbhealth, common.pgbackend).
ORIGINAL_BACKEND = "common.pgbackend"
# The longest one database wait may take (seconds), per role: an xml_curl answer must
# come well inside FreeSWITCH's 3 s timeout; call control's queries hold its whole hub;
# the admin and portal may run slower pages. Migrations, Celery and manage.py: none
# (DATABASE_WAIT_LIMIT sets a process-wide one).
FSCONF_DATABASE_WAIT = float(os.environ.get("SWITCHBOARD_FSCONF_DATABASE_WAIT", "1.0"))
CALLCONTROL_DATABASE_WAIT = float(os.environ.get("SWITCHBOARD_CALLCONTROL_DATABASE_WAIT", "1.0"))
WEB_DATABASE_WAIT = float(os.environ.get("SWITCHBOARD_WEB_DATABASE_WAIT", "30"))
# Call-record posts: answered 503 well inside mod_json_cdr's 5 s timeout
# (deploy/freeswitch/autoload_configs/json_cdr.conf.xml), so FreeSWITCH sees our refusal and
# retries, and a web thread is not held by an unreachable database for the web's 30 s.
CDR_DATABASE_WAIT = float(os.environ.get("SWITCHBOARD_CDR_DATABASE_WAIT", "2.0"))
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# "fsconf" holds rendered xml_curl documents and their generations (fsconf.cache). It must
# be shared by every process that answers FreeSWITCH or writes PBX data, or a write in one
# process would not invalidate another's copy: Redis in production; without REDIS_URL a
# directory on this machine, which every local process shares.
FSCONF_CACHE_PREFIX = os.environ.get("SWITCHBOARD_CACHE_PREFIX", "switchboard")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        },
        "fsconf": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": FSCONF_CACHE_PREFIX,
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        },
        "fsconf": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(EMBEDDED_DATA_DIR / "fsconf-cache"),
            "KEY_PREFIX": FSCONF_CACHE_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
    }

# With Redis, each process also keeps up to this many documents in memory, kept honest by
# Redis's invalidation messages (fsconf/cache_local.py); 0 turns it off. About 2 KB each.
FSCONF_LOCAL_DOCUMENTS = int(os.environ.get("SWITCHBOARD_FSCONF_LOCAL_DOCUMENTS", "20000"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = EMBEDDED_DATA_DIR / "celery" / "queue"
    _processed_dir = EMBEDDED_DATA_DIR / "celery" / "processed"
    _control_dir = EMBEDDED_DATA_DIR / "celery" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "portal:login"
# The throttle's check runs first and refuses a locked-out sign-in before any password is
# tried; ModelBackend (named by the masquerade sign-in) does the authenticating.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes; tenants/throttling.py, README "Signing in"). Failures
# count per username and, separately, per client address: either reaching the limit
# within the cool-off locks that username (on every host) or that address (for every
# username) until its failures age out. Same client address as the audit log.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("SWITCHBOARD_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SWITCHBOARD_LOGIN_COOLOFF_MINUTES", "15")))
AXES_CLIENT_IP_CALLABLE = "tenants.http.client_ip"
AXES_LOCKOUT_CALLABLE = "tenants.throttling.lockout_response"
# A success clears that username's failures only (tenants.throttling), not every failure
# from the address: axes' own reset would let one valid account wipe an address's count.
AXES_RESET_ON_SUCCESS = False
# Refused attempts during a lockout neither extend it nor write rows, so "try again in N
# minutes" holds and a flood of refused attempts costs no writes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The audit log records sign-in lockouts; axes' per-login access log would only grow.
AXES_DISABLE_ACCESS_LOG = True
# Lockouts are shown (to the master's staff only) by tenants.admin.lockouts, not axes' admin.
AXES_ENABLE_ADMIN = False
# After a sign-in without ?next=: "/" is the portal's dashboard on a tenant host and
# redirects to /admin/ on the provider's host (a URL name would not resolve on both).
LOGIN_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# A masquerade grant is a one-time link from the admin host to a tenant host; the session
# it opens lasts at most MASQUERADE_SESSION_SECONDS.
MASQUERADE_GRANT_SECONDS = 60
MASQUERADE_SESSION_SECONDS = 3600
# Masquerade links carry a bearer token, so they only go to hostnames under these
# platform-controlled suffixes (a wildcard DNS record pointing at the platform), never to
# a tenant's own domain whose DNS the tenant controls.
PORTAL_HOST_SUFFIXES = env_list("SWITCHBOARD_PORTAL_HOST_SUFFIXES", ".localhost")
# How the admin builds links to a tenant portal (scheme and port of the web server).
PORTAL_SCHEME = os.environ.get("SWITCHBOARD_PORTAL_SCHEME", "http")
PORTAL_PORT = os.environ.get("SWITCHBOARD_PORTAL_PORT", "8000")

# Encrypts SIP secrets at rest (common.secrets); defaults to SECRET_KEY. Set it separately in
# production so rotating SECRET_KEY does not make every device secret unreadable.
SIP_SECRET_ENCRYPTION_KEY = os.environ.get("SWITCHBOARD_SIP_SECRET_KEY", "")

# mod_xml_curl clients: source networks allowed, and the binding's gateway-credentials
# ("user:password"; empty means no HTTP auth, the allowlist alone).
FREESWITCH_ALLOWED_NETWORKS = env_list("FREESWITCH_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
FREESWITCH_GATEWAY_CREDENTIALS = os.environ.get("FREESWITCH_GATEWAY_CREDENTIALS", "")
# sofia.conf is answered from these profile files (the same ones deploy/freeswitch ships)
# plus the trunks' gateways, which go into TRUNK_PROFILE.
SOFIA_PROFILES_DIR = Path(
    os.environ.get("SWITCHBOARD_SOFIA_PROFILES_DIR", BASE_DIR / "deploy" / "freeswitch" / "sip_profiles")
)
TRUNK_PROFILE = os.environ.get("SWITCHBOARD_TRUNK_PROFILE", "external")
# The sofia profile phones register on (a suspended account's registrations are flushed there).
PHONE_PROFILE = os.environ.get("SWITCHBOARD_PHONE_PROFILE", "internal")
# SIP password guessing (fsnodes.auth_guard): this many wrong passwords within the window
# block the SIP user (per account), or the source address, for the block's length.
SIP_AUTH_USER_FAILURES = int(os.environ.get("SWITCHBOARD_SIP_AUTH_USER_FAILURES", "10"))
SIP_AUTH_ADDRESS_FAILURES = int(os.environ.get("SWITCHBOARD_SIP_AUTH_ADDRESS_FAILURES", "20"))
SIP_AUTH_WINDOW_SECONDS = float(os.environ.get("SWITCHBOARD_SIP_AUTH_WINDOW_SECONDS", "600"))
SIP_AUTH_BLOCK_SECONDS = float(os.environ.get("SWITCHBOARD_SIP_AUTH_BLOCK_SECONDS", "900"))
# Networks whose failures never block the address (an SBC or proxy in front of FreeSWITCH).
SIP_AUTH_TRUSTED_NETWORKS = env_list("SWITCHBOARD_SIP_AUTH_TRUSTED_NETWORKS", "")
# Call records (docs/cdr.md): kept CDR_RETENTION_DAYS unless an account's own policy says
# otherwise (cdr.RetentionPolicy); the raw post beside them only CDR_RAW_RETENTION_DAYS;
# monthly partitions created this many months ahead by Celery beat.
CDR_RETENTION_DAYS = int(os.environ.get("SWITCHBOARD_CDR_RETENTION_DAYS", "400"))
CDR_RAW_RETENTION_DAYS = int(os.environ.get("SWITCHBOARD_CDR_RAW_RETENTION_DAYS", "30"))
CDR_PARTITIONS_AHEAD = int(os.environ.get("SWITCHBOARD_CDR_PARTITIONS_AHEAD", "2"))

# Webhooks (docs/webhooks.md): a tenant's URL on a private, loopback or reserved address
# is refused (server-side request forgery) unless this is set -- a development machine,
# or the tests' local receiver.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
# Delivery-log rows are deleted this many days after their event (webhooks.retention).
WEBHOOKS_DELIVERY_RETENTION_DAYS = int(os.environ.get("SWITCHBOARD_WEBHOOKS_DELIVERY_RETENTION_DAYS", "30"))
# Uploaded prompts and hold music, and the WAV copies FreeSWITCH plays (pbx.media). Never
# served over HTTP (no MEDIA_URL): this directory is mounted on every FreeSWITCH node, where
# it appears at FREESWITCH_MEDIA_BASE (docs/media.md); on one machine both are the same.
MEDIA_ROOT = Path(os.environ.get("SWITCHBOARD_MEDIA_ROOT", EMBEDDED_DATA_DIR / "media"))
FREESWITCH_MEDIA_BASE = os.environ.get("FREESWITCH_MEDIA_BASE", "") or str(MEDIA_ROOT)
# mod_voicemail (voicemail.conf over xml_curl): where FreeSWITCH keeps the recordings and,
# with several nodes, the ODBC DSN of the shared message index (fsconf/sections/conf_voicemail.py).
VOICEMAIL_STORAGE_DIR = os.environ.get("VOICEMAIL_STORAGE_DIR", "")
VOICEMAIL_ODBC_DSN = os.environ.get("VOICEMAIL_ODBC_DSN", "")
VOICEMAIL_EMAIL_FROM = os.environ.get("VOICEMAIL_EMAIL_FROM", "voicemail@localhost")
VOICEMAIL_MAX_RECORD_SECONDS = int(os.environ.get("VOICEMAIL_MAX_RECORD_SECONDS", "300"))
# The voicemail recordings as this host mounts them (docs/media.md, "Voicemail messages"):
# the nodes' prefix (VOICEMAIL_NODE_STORAGE_DIR, default VOICEMAIL_STORAGE_DIR) is replaced
# by VOICEMAIL_LOCAL_STORAGE_DIR (default: the same path).
VOICEMAIL_NODE_STORAGE_DIR = os.environ.get("VOICEMAIL_NODE_STORAGE_DIR", "")
VOICEMAIL_LOCAL_STORAGE_DIR = os.environ.get("VOICEMAIL_LOCAL_STORAGE_DIR", "")
# Waits (seconds) between tries of a voicemail e-mail while the mail server is down.
VOICEMAIL_EMAIL_RETRY_DELAYS = (30, 60, 120, 300, 600, 1800, 3600, 3600)
# Mail the web processes send (invitations to My phone, password resets). Without a mail
# server configured the console backend prints them, so bin/run works on a bare machine;
# production sets EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "switchboard@localhost")
# Where FreeSWITCH writes conference recordings and follow-me's recorded caller names.
CONFERENCE_RECORDINGS_DIR = os.environ.get(
    "CONFERENCE_RECORDINGS_DIR", "/var/lib/freeswitch/recordings/conferences")
CALLCONTROL_RECORDINGS_DIR = os.environ.get("CALLCONTROL_RECORDINGS_DIR", "/tmp")
# Where the call-control server listens (callcontrol) and, unless CALLCONTROL_SOCKET says
# otherwise, where the dialplan's socket action sends FreeSWITCH (fsconf).
CALLCONTROL_LISTEN = os.environ.get("CALLCONTROL_LISTEN", "127.0.0.1:8084")
# The address the dialplan's socket action gives FreeSWITCH (empty: CALLCONTROL_LISTEN).
CALLCONTROL_SOCKET = os.environ.get("CALLCONTROL_SOCKET", "")
# How a number dialed without + is read when an account has not set its own country.
DEFAULT_COUNTRY = os.environ.get("SWITCHBOARD_DEFAULT_COUNTRY", "US")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = EMBEDDED_DATA_DIR / "static"

# The REST API (docs/api.md, switchboard/api/). An API key, or the session bound to its
# host; never basic authentication, which would sign a user of one tenant in on another's
# host (it skips tenants.sessions). One checkpoint: an identity, read-only writes nothing.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "switchboard.api.authentication.ApiKeyAuthentication",
        "switchboard.api.authentication.HostSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["switchboard.api.permissions.IdentityCheckpoint"],
    "DEFAULT_THROTTLE_CLASSES": ["switchboard.api.throttling.IdentityRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "switchboard.api.pagination.Pages",
    "DEFAULT_FILTER_BACKENDS": [
        # The FilterSets of <app>/filtersets.py, shared with the portal (``q`` searches).
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "switchboard.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "switchboard.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API key (or per signed-in user) within a minute, hour ...; beyond
# it, 429 with Retry-After. DRF's format: "<n>/<second|minute|hour|day>".
API_THROTTLE_RATE = os.environ.get("SWITCHBOARD_API_RATE", "1200/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Provisioning for the cloud PBX: accounts and every object of a tenant's PBX, "
                   "scoped by the account tree (docs/api.md).",
    "VERSION": "1",
    "SERVE_URLCONF": "switchboard.urls_api",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "switchboard.api.schema.blank_or_pattern",
    ],
    # Choice sets that share a field name get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "AccountKindEnum": "tenants.models.accounts.Account.Kind",
        "NewAccountKindEnum": ["customer", "reseller"],
        "ScheduleActionEnum": "pbx.models.schedules.ScheduleAction",
        "AccountStatusEnum": "tenants.models.accounts.Account.Status",
        "MediaStatusEnum": "pbx.models.media.MediaStatus",
        "WebhookEventEnum": "webhooks.models.Event",
        "ApiKeyStateEnum": ["active", "expired", "revoked"],
        "TrunkSourceEnum": "tenants.models.accounts.Account.TrunkSource",
        "JobKindEnum": "tenants.models.jobs.Job.Kind",
        "JobStateEnum": "tenants.models.jobs.Job.State",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # A request answered with the outage page is not also logged as a 500 (switchboard.outage).
    "filters": {"unlogged_outage": {"()": "switchboard.outage.UnloggedOutage"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django.request": {"filters": ["unlogged_outage"]}},
}
