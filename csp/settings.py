"""Settings for csp.

Every value comes from the environment through django-environ's ``env`` helper, which raises
ImproperlyConfigured for a malformed value. Embedded defaults make a fresh clone run with SQLite and
in-process Celery tasks; production sets DATABASE_URL, REDIS_URL and SECRET_KEY (see .env.example).
"""

import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    SECRET_KEY = "insecure-dev-only-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Origins whose browser pages may send events to /v1/* (CORS); "*" = any (the write key authenticates).
TRACKING_ALLOWED_ORIGINS = env.list("TRACKING_ALLOWED_ORIGINS", default=["*"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "notifications",
    "accounts",
    "events",
    "support",
    "health",
    "timeline",
    "success",
    "imports",
    "playbooks",
    "segments",
    "triggers",
    "surveys",
    "metrics",
    "search",
    "home",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mozilla_django_oidc",
    "auditlog",
    "audit",  # above every domain app: it registers their models with auditlog
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "events.middleware.TrackingShortcutMiddleware",  # /v1 ingestion skips the rest (see its docstring)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.api.middleware.TokenApiMiddleware",  # API calls by token, no cookie: skip the browser-only ones below
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "csp.middleware.HtmxLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session gave its TOTP code
    "csp.mfa_views.RequireMFAMiddleware",
    "audit.middleware.AuditActorMiddleware",  # the audit log's actor and IP come from the request
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The audit log (audit app, django-auditlog) stores the client IP of each change unless this is on.
AUDITLOG_DISABLE_REMOTE_ADDR = env.bool("AUDITLOG_DISABLE_REMOTE_ADDR", default=False)

# TOTP second factor (django-otp): when true, admins must enrol before using the app, and give a code at login.
MFA_REQUIRED_FOR_ADMINS = env.bool("MFA_REQUIRED_FOR_ADMINS", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="csp")

# Single sign-on (OpenID Connect, mozilla-django-oidc; docs/security.md). On when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="") or None
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="") or None
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="groups")
# "cs-admins:admin,cs-managers:manager": provider group -> csp role (csp/oidc.py; the strongest match wins).
OIDC_ROLE_MAP = dict(
    (group.strip(), role.strip())
    for group, _, role in (p.rpartition(":") for p in env.str("OIDC_ROLE_MAP", default="").split(",") if p.strip())
)
if not set(OIDC_ROLE_MAP.values()) <= {"admin", "manager", "csm", "viewer"}:
    raise ImproperlyConfigured("OIDC_ROLE_MAP roles must be admin, manager, csm or viewer")
OIDC_DEFAULT_ROLE = env.str("OIDC_DEFAULT_ROLE", default="viewer")
OIDC_CREATE_USER = env.bool("OIDC_CREATE_USER", default=True)
OIDC_TIMEOUT = 10
OIDC_USE_PKCE = True
SSO_ENABLED = bool(OIDC_RP_CLIENT_ID)
# false: only SSO logs in (the password form is gone and refused); keep a break-glass admin path in mind.
PASSWORD_LOGIN_ENABLED = env.bool("PASSWORD_LOGIN_ENABLED", default=True)

ROOT_URLCONF = "csp.urls"
WSGI_APPLICATION = "csp.wsgi.application"

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
                "csp.context_processors.navigation",
            ],
        },
    },
]

# SQLite when DATABASE_URL is unset, so a fresh clone runs with no server; CI and compose use PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo serves pages while usage streams in: WAL lets reads run beside the writer, IMMEDIATE
    # transactions queue writers instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Behind PgBouncer in transaction pooling mode a server connection serves another client after each transaction:
# no session state may outlive a transaction. DATABASE_POOL_MODE=transaction turns off what would: psycopg's
# prepared statements (prepare_threshold None, which events.storage also honours) and server-side cursors
# (.iterator() on PostgreSQL declares a cursor that lives across fetches). Tested against a real pgbouncer.
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="session")
if DATABASE_POOL_MODE not in ("session", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOL_MODE must be 'session' (direct or session pooling) or 'transaction'")


def _pooled(db: dict) -> dict:
    if DATABASE_POOL_MODE == "transaction" and db["ENGINE"] == "django.db.backends.postgresql":
        db.setdefault("OPTIONS", {})["prepare_threshold"] = None
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
    return db


_pooled(DATABASES["default"])
# A read replica for dashboards, the metrics API and CSV exports (csp.dbrouting): reads there tolerate its lag;
# all writes and every other read stay on the primary.
if DATABASE_REPLICA_URL := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = _pooled(
        env.db_url_config(DATABASE_REPLICA_URL)
        | {"CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"], "CONN_HEALTH_CHECKS": True}
        | {"TEST": {"MIRROR": "default"}}  # tests read the primary's test database through the replica alias
    )
DATABASE_ROUTERS = ["csp.dbrouting.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "csp.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"  # a refused single sign-on lands on the login page
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    # Hashing with the default PBKDF2 rounds dominates test time; tests need no real hash strength.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from npm (package.json) and are served by the app itself, never a CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/tom-select", NODE_MODULES / "tom-select" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not (DEBUG or TESTING))
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="csp@localhost")
# SMTP (used when EMAIL_BACKEND is the SMTP backend; docker-compose points it at Mailpit).
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# Surveys (docs/surveys.md): the sender's name shown on the public pages and in the mails, how long an answer
# link stays valid, the origins allowed to embed the survey, and the public endpoints' rate limits.
SURVEY_COMPANY_NAME = env.str("SURVEY_COMPANY_NAME", default="Acme Software")
SURVEY_FROM_EMAIL = env.str("SURVEY_FROM_EMAIL", default="") or DEFAULT_FROM_EMAIL
SURVEY_TOKEN_MAX_AGE_DAYS = env.int("SURVEY_TOKEN_MAX_AGE_DAYS", default=30)
SURVEY_EMBED_ORIGINS = env.list("SURVEY_EMBED_ORIGINS", default=[])
SURVEY_RATE_PER_IP = env.int("SURVEY_RATE_PER_IP", default=60)  # requests per minute
SURVEY_RATE_PER_TOKEN = env.int("SURVEY_RATE_PER_TOKEN", default=20)
# Minutes a one-click score waits for its comment before triggers hear of it.
SURVEY_NOTIFY_GRACE_MINUTES = env.int("SURVEY_NOTIFY_GRACE_MINUTES", default=15)
# Base of the absolute links in notification emails and webhook bodies (relative paths when empty).
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
# API tokens expire after this many days (0 = never); a new one is made on the profile page or create_api_token.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=365)
# The help desk's own secret for POST /api/v1/tickets/webhook (header X-CSP-Webhook-Secret); empty = tokens only.
SUPPORT_WEBHOOK_SECRET = env.str("SUPPORT_WEBHOOK_SECRET", default="")

REST_FRAMEWORK = {
    # Token first, so an anonymous API call gets 401 with a WWW-Authenticate header rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "csp.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["csp.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "csp.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "csp.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "csp.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["csp.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "csp.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "csp API",
    "DESCRIPTION": "Customer Success Platform REST API. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status", "priority" or "sentiment": name each choice set after its class.
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "ContractStatusEnum": "accounts.models.ContractStatus",
        "TierEnum": "accounts.models.Tier",
        "LifecycleStageEnum": "accounts.models.LifecycleStage",
        "BandEnum": "health.models.Band",
        "CTATypeEnum": "playbooks.models.CTAType",
        "CTAPriorityEnum": "playbooks.models.CTAPriority",
        "CTAStatusEnum": "playbooks.models.CTAStatus",
        "PlanStatusEnum": "success.models.PlanStatus",
        "ObjectiveStatusEnum": "success.models.ObjectiveStatus",
        "TicketPriorityEnum": "support.models.TicketPriority",
        "TicketStatusEnum": "support.models.TicketStatus",
        "SentimentEnum": "timeline.models.Sentiment",
        "ImportStatusEnum": "imports.models.ImportStatus",
        "ForecastCallEnum": "accounts.renewal_models.ForecastCall",
        "RenewalStageEnum": "accounts.renewal_models.RenewalStage",
        "ExpansionStageEnum": "accounts.renewal_models.ExpansionStage",
        "SurveyKindEnum": "surveys.models.SurveyKind",
        "ContactRoleEnum": "accounts.models.ContactRole",
    },
}

# Celery: a real Redis broker when REDIS_URL is set. Without it tasks run in-process (eagerly), inside the web
# request that enqueued them: acceptable for `make run` (DEBUG) and tests, never in production, where a history
# recompute would then run inside a page view and a lost process would lose its tasks.
REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off: without a broker every background task (usage refresh, health "
        "recompute, imports) would run inside the web request that enqueued it. Set REDIS_URL=redis://host:6379/0 "
        "(see .env.example), or DEBUG=true for a local demo (make run)."
    )
# Without REDIS_URL, ``make run`` (run_demo) sets CSP_EMBEDDED_BROKER_DIR and starts a real worker and beat beside
# the web server on kombu's filesystem transport (csp/embedded_broker.py: message files in that folder): periodic
# tasks run on schedule and background work leaves the request, as in production, with nothing to install.
# Neither set (tests, one-off commands): tasks run eagerly.
CSP_EMBEDDED_BROKER_DIR = "" if REDIS_URL else env.str("CSP_EMBEDDED_BROKER_DIR", default="")
if CSP_EMBEDDED_BROKER_DIR and not (DEBUG or TESTING):
    raise ImproperlyConfigured("The embedded broker is for DEBUG (make run) and tests; production sets REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or ("cspfs://" if CSP_EMBEDDED_BROKER_DIR else "memory://")
# Days before a contract ends when its renewal opens on the renewals board (accounts.renewals).
RENEWAL_OPEN_DAYS = env.int("RENEWAL_OPEN_DAYS", default=120)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not (REDIS_URL or CSP_EMBEDDED_BROKER_DIR)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies mid-run is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is set: a new
# PostgreSQL backend per task (fork, authentication, cold catalog caches) cost more CPU than many small tasks
# themselves. With it the fixup closes them only every 2 x this many tasks; csp.celery closes a connection
# that is broken or older than CONN_MAX_AGE around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Three queues, each with its own workers (docker-compose.yml, `make worker`), so a history recompute or an
# import never waits in front of event -> CTA: `ingest` (usage rollups), `default` (triggers, CTAs,
# notifications and anything unrouted), `long` (recomputes over every account, imports, survey sends, ledger).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "events.tasks.refresh_usage": {"queue": "ingest"},
    "events.tasks.usage_sweep": {"queue": "ingest"},
    "health.tasks.health_recompute_all": {"queue": "long"},
    "health.tasks.health_recompute_history": {"queue": "long"},
    "accounts.tasks.contracts_expire": {"queue": "long"},
    "imports.tasks.import_dry_run": {"queue": "long"},
    "imports.tasks.import_apply": {"queue": "long"},
    "surveys.tasks.survey_batch_send": {"queue": "long"},
    "surveys.tasks.surveys_run_scheduled": {"queue": "long"},
    "metrics.tasks.ledger_refresh_accounts": {"queue": "long"},
    "metrics.tasks.ledger_refresh_all": {"queue": "long"},
    "accounts.tasks.renewals_open_due": {"queue": "long"},
}
# With acks_late, Redis hands an unacknowledged task to another worker once visibility_timeout passes, even if
# the first is still running it: the timeout must exceed the longest hard time limit of any task (2 h, the
# history recompute), which csp.celery checks when a worker starts (and a test checks for every task).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600)}
if CSP_EMBEDDED_BROKER_DIR:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(Path(CSP_EMBEDDED_BROKER_DIR) / "messages"),
        "data_folder_out": str(Path(CSP_EMBEDDED_BROKER_DIR) / "messages"),
        "control_folder": str(Path(CSP_EMBEDDED_BROKER_DIR) / "control"),
    }
    for _folder in ("messages", "control"):
        (Path(CSP_EMBEDDED_BROKER_DIR) / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # run_demo sets WARNING for its web server: one line per request would bury the demo logins.
    "loggers": {
        "django.server": {"level": env.str("SERVER_LOG_LEVEL", default="INFO")},
        # django-axes logs every successful login at INFO; failures and lockouts (WARNING) still show.
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
    },
}

# --- Security (docs/security.md) ------------------------------------------------------------------------------
# Behind a TLS-terminating proxy: it sets X-Forwarded-Proto, and TRUSTED_PROXY_COUNT proxies append to
# X-Forwarded-For (0 = clients connect directly; never trust the header then).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if (DEBUG or TESTING) else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not (DEBUG or TESTING))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not (DEBUG or TESTING))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# Content-Security-Policy: scripts only from this server's static files (templates hold no inline script).
# Inline style attributes stay allowed (Bootstrap utilities, htmx's indicator styles, Chart.js sizing).
CSP_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
MIDDLEWARE.insert(1, "csp.security.ContentSecurityPolicyMiddleware")

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one account, or from one address, that
# account or address is locked out for LOGIN_LOCKOUT_MINUTES; a success resets the account's count.
INSTALLED_APPS.insert(INSTALLED_APPS.index("rest_framework"), "axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = ["csp.security.LoginLockoutBackend", "django.contrib.auth.backends.ModelBackend"]
if SSO_ENABLED:
    AUTHENTICATION_BACKENDS.append("csp.oidc.RoleMappingOIDCBackend")  # single sign-on (csp/oidc.py)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account and per address
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "csp.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False

# API throttles (DRF): per token/user and per anonymous address; rates like "1200/min" from the environment.
# DRF's throttles, counted in one Redis round trip when the cache is Redis (csp/api/throttling.py).
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "csp.api.throttling.UserRateThrottle",
    "csp.api.throttling.AnonRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env.str("API_THROTTLE_USER", default="1200/min"),
    "anon": env.str("API_THROTTLE_ANON", default="60/min"),
}
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# Throttle counters live in the cache: Redis when configured (shared by every worker process), else memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "csp"}
        if REDIS_URL and not TESTING
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# /v1 calls without a valid write key: counted, and only one in INGEST_UNAUTHORIZED_SAMPLE is written to the
# rejection log (anonymous traffic cannot grow it); the log is purged after INGEST_REJECTION_RETENTION_DAYS.
INGEST_UNAUTHORIZED_SAMPLE = env.int("INGEST_UNAUTHORIZED_SAMPLE", default=100)
INGEST_REJECTION_RETENTION_DAYS = env.int("INGEST_REJECTION_RETENTION_DAYS", default=30)

# Trigger webhooks: https only, and never to loopback, private, link-local or metadata addresses, unless allowed.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# Unset: a key derived from SECRET_KEY (never SECRET_KEY itself), which receivers cannot know: set it to verify.
WEBHOOK_SIGNING_SECRET = (
    env.str("WEBHOOK_SIGNING_SECRET", default="")
    or __import__("hashlib").sha256(b"csp-webhook-signing:" + SECRET_KEY.encode()).hexdigest()
)

# The API schema and its docs need a login unless opened (a public API reference).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
