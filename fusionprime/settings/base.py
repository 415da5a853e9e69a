"""Settings shared by every environment. Everything configurable comes from the environment."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from fusionprime.env import BASE_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "fusionprime.events",
    "fusionprime.api",
    "settlements",
    "escrow",
    "webhooks",
    "risk",
]

MIDDLEWARE = [
    "fusionprime.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fusionprime.urls"
WSGI_APPLICATION = "fusionprime.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fusionprime" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Bodies larger than this are refused with 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "fusionprime.cache.ReusingRedisCache"

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["fusionprime.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["fusionprime.api.permissions.HasRequiredScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["fusionprime.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", default="1200/min")},
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "fusionprime.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fusion Prime API",
    "DESCRIPTION": "Settlement commands, escrow-backed settlements and their event history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer", "description": "API key"}}
    },
    "SECURITY": [{"ApiKey": []}],
}
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48))
if IDEMPOTENCY_KEY_TTL < timedelta(hours=24):
    # Integrators retry for up to a day; a shorter window would turn retries into duplicates.
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_TTL_HOURS must be at least 24.")
# A request that died without releasing its key is taken over after this long.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=60))

# --- Events and publishing ----------------------------------------------------------------------
GCP_PROJECT_ID = env("GCP_PROJECT_ID", default="")
PUBSUB_EMULATOR_HOST = env("PUBSUB_EMULATOR_HOST", default="")
# Where events go when neither a GCP project nor an emulator is configured.
EVENT_SPOOL_PATH = env.path("EVENT_SPOOL_PATH", default=BASE_DIR / "var" / "events.spool.jsonl")
PUBSUB_TOPIC_SETTLEMENT_EVENTS = env("PUBSUB_TOPIC_SETTLEMENT_EVENTS", default="settlement.events.v1")
PUBSUB_TOPIC_CHAIN_EVENTS = env("PUBSUB_TOPIC_CHAIN_EVENTS", default="chain.events.v1")
PUBSUB_PIPELINE_SUBSCRIPTION = env("PUBSUB_PIPELINE_SUBSCRIPTION", default="settlement.events.v1.risk-pipeline")
EVENT_PUBLISH_BATCH_SIZE = env.int("EVENT_PUBLISH_BATCH_SIZE", default=500)
EVENT_PUBLISH_TIMEOUT_SECONDS = env.float("EVENT_PUBLISH_TIMEOUT_SECONDS", default=30.0)
# Backoff after a failed publish: base * 2**(attempts-1), capped.
EVENT_PUBLISH_BACKOFF_BASE_SECONDS = env.int("EVENT_PUBLISH_BACKOFF_BASE_SECONDS", default=2)
EVENT_PUBLISH_BACKOFF_MAX_SECONDS = env.int("EVENT_PUBLISH_BACKOFF_MAX_SECONDS", default=300)
# After this many failures an event is shown as stuck in admin (it is still retried).
EVENT_PUBLISH_STUCK_AFTER = env.int("EVENT_PUBLISH_STUCK_AFTER", default=5)
# Called as hook(events=[...]) inside the transaction that records events (e.g. webhook deliveries).
EVENT_RECORD_HOOKS: list[str] = []
EVENT_SCHEMA_BASE_URL = "https://schemas.fusionprime.dev"

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = BASE_DIR / "var" / "celery-broker"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        # kombu's default is ./control relative to the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "publish-events-sweep": {
        "task": "events.publish_pending",
        "schedule": env.float("EVENT_PUBLISH_SWEEP_SECONDS", default=5.0),
        "options": {"expires": 30},
    },
    "idempotency-keys-purge": {
        "task": "api.purge_idempotency_keys",
        "schedule": 3600.0,
        "options": {"expires": 600},
    },
}

# --- Observability ------------------------------------------------------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="local")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "fusionprime.observability.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "fusionprime.observability.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

from fusionprime.observability import init_sentry  # noqa: E402

init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# --- Webhooks (webhooks/) -----------------------------------------------------------------------
# Key(s) for endpoint secrets at rest, comma-separated (first encrypts, all decrypt); any string is
# stretched to a Fernet key. Empty = derived from DJANGO_SECRET_KEY (local/test only: production.py
# requires it).
WEBHOOKS_SECRET_KEY = env("WEBHOOKS_SECRET_KEY", default="")
# Plain http:// endpoints are allowed only when False; production.py forces True.
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=False)
# CIDRs and host names that may be private/loopback targets anyway; empty = none.
WEBHOOKS_ALLOWLIST = env.list("WEBHOOKS_ALLOWLIST", default=[])
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=5.0)
WEBHOOKS_TOTAL_TIMEOUT_SECONDS = env.float("WEBHOOKS_TOTAL_TIMEOUT_SECONDS", default=15.0)
WEBHOOKS_RESPONSE_BODY_LIMIT = env.int("WEBHOOKS_RESPONSE_BODY_LIMIT", default=64 * 1024)
# Delay before attempt 1, 2, 3…; when the list is exhausted the delivery fails for good.
WEBHOOKS_RETRY_SCHEDULE_SECONDS = env.list(
    "WEBHOOKS_RETRY_SCHEDULE_SECONDS", cast=int, default=[0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
)
# Upward-only jitter: a delay d becomes d * (1 + U(0, ratio)).
WEBHOOKS_RETRY_JITTER_RATIO = env.float("WEBHOOKS_RETRY_JITTER_RATIO", default=0.1)
# Retry-After on 429/503 is honoured up to this bound.
WEBHOOKS_RETRY_AFTER_MAX_SECONDS = env.int("WEBHOOKS_RETRY_AFTER_MAX_SECONDS", default=3600)
# A claimed delivery whose worker died is re-driven after this; must exceed the total timeout.
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
WEBHOOKS_SWEEP_BATCH_SIZE = env.int("WEBHOOKS_SWEEP_BATCH_SIZE", default=50)
# HTTP requests one sweep runs in parallel (threads do HTTP only; the DB stays on the caller's thread).
WEBHOOKS_SWEEP_CONCURRENCY = env.int("WEBHOOKS_SWEEP_CONCURRENCY", default=8)
WEBHOOKS_SWEEP_TIME_BUDGET_SECONDS = env.float("WEBHOOKS_SWEEP_TIME_BUDGET_SECONDS", default=20.0)
# Kick a worker when deliveries are created (low latency); the sweep is the safety net.
WEBHOOKS_KICK_ON_COMMIT = env.bool("WEBHOOKS_KICK_ON_COMMIT", default=True)
WEBHOOKS_SECRET_ROTATION_OVERLAP = timedelta(hours=env.int("WEBHOOKS_SECRET_ROTATION_OVERLAP_HOURS", default=24))
# Auto-disable: no success for this long and at least this many deliveries failed for good.
WEBHOOKS_DISABLE_AFTER = timedelta(hours=env.int("WEBHOOKS_DISABLE_AFTER_HOURS", default=72))
WEBHOOKS_DISABLE_MIN_FAILED_DELIVERIES = env.int("WEBHOOKS_DISABLE_MIN_FAILED_DELIVERIES", default=3)
# Ops are warned this long before an auto-disable, and when this many attempts in a row failed.
WEBHOOKS_DISABLE_WARNING_BEFORE = timedelta(hours=env.int("WEBHOOKS_DISABLE_WARNING_BEFORE_HOURS", default=24))
WEBHOOKS_NOTIFY_FAILING_AFTER = env.int("WEBHOOKS_NOTIFY_FAILING_AFTER", default=5)
WEBHOOKS_OPS_EMAILS = env.list("WEBHOOKS_OPS_EMAILS", default=[])
WEBHOOKS_PAYLOAD_RETENTION = timedelta(days=env.int("WEBHOOKS_PAYLOAD_RETENTION_DAYS", default=30))
WEBHOOKS_PURGE_BATCH_SIZE = env.int("WEBHOOKS_PURGE_BATCH_SIZE", default=1000)
EVENT_RECORD_HOOKS.append("webhooks.services.deliveries_create_for_events")
CELERY_BEAT_SCHEDULE.update(
    {
        "webhooks-deliver-sweep": {
            "task": "webhooks.deliver_due",
            "schedule": env.float("WEBHOOKS_SWEEP_SECONDS", default=2.0),
            "options": {"expires": 10},
        },
        "webhooks-endpoint-health": {
            "task": "webhooks.check_endpoint_health",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
        "webhooks-purge-payloads": {
            "task": "webhooks.purge_payloads",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
    }
)

# --- Risk: exposure limits and BigQuery analytics (risk/, dataflow/) -----------------------------
# The project and dataset the risk pipeline writes and the exposure dashboard reads. With neither a
# project nor an emulator, the dashboard shows live exposure only and says BigQuery is off.
BIGQUERY_PROJECT_ID = env("BIGQUERY_PROJECT_ID", default="") or GCP_PROJECT_ID
BIGQUERY_DATASET = env("BIGQUERY_DATASET", default="risk")
BIGQUERY_LOCATION = env("BIGQUERY_LOCATION", default="EU")
# Set to the bqemulator REST endpoint (http://127.0.0.1:9050) to use the local emulator.
BIGQUERY_EMULATOR_HOST = env("BIGQUERY_EMULATOR_HOST", default="")
BIGQUERY_TIMEOUT_SECONDS = env.float("BIGQUERY_TIMEOUT_SECONDS", default=10.0)
# How far back the exposure dashboard charts the windowed history.
RISK_DASHBOARD_HISTORY_MINUTES = env.int("RISK_DASHBOARD_HISTORY_MINUTES", default=120)

# --- Escrow relayer (escrow/) -------------------------------------------------------------------
# RPC endpoints per chain, comma-separated, first = highest priority: CHAIN_RPC_URLS_<NAME> for a
# chain registered as <name> (e.g. CHAIN_RPC_URLS_SEPOLIA, CHAIN_RPC_URLS_AMOY, CHAIN_RPC_URLS_LOCAL).
CHAIN_RPC_URLS: dict[str, list[str]] = {
    _key.removeprefix("CHAIN_RPC_URLS_").lower(): env.list(_key)
    for _key in env.ENVIRON
    if _key.startswith("CHAIN_RPC_URLS_")
}
# Extra contracts to watch per chain besides the factory and its escrows (cross-chain instruction
# handler/sender, issue 8): CHAIN_WATCHED_CONTRACTS_<NAME>="instruction_handler:0x…,instruction_sender:0x…".
CHAIN_WATCHED_CONTRACTS: dict[str, list[str]] = {
    _key.removeprefix("CHAIN_WATCHED_CONTRACTS_").lower(): env.list(_key)
    for _key in env.ENVIRON
    if _key.startswith("CHAIN_WATCHED_CONTRACTS_")
}
RELAYER_RPC_TIMEOUT_SECONDS = env.float("RELAYER_RPC_TIMEOUT_SECONDS", default=10.0)
RELAYER_RETRY_ROUNDS = env.int("RELAYER_RETRY_ROUNDS", default=3)
RELAYER_BACKOFF_BASE_SECONDS = env.float("RELAYER_BACKOFF_BASE_SECONDS", default=0.5)
RELAYER_BACKOFF_MAX_SECONDS = env.float("RELAYER_BACKOFF_MAX_SECONDS", default=10.0)
RELAYER_BREAKER_FAILURES = env.int("RELAYER_BREAKER_FAILURES", default=3)
RELAYER_BREAKER_COOLDOWN_SECONDS = env.float("RELAYER_BREAKER_COOLDOWN_SECONDS", default=30.0)
RELAYER_HEAD_LAG_TOLERANCE_BLOCKS = env.int("RELAYER_HEAD_LAG_TOLERANCE_BLOCKS", default=5)
RELAYER_INITIAL_BLOCK_RANGE = env.int("RELAYER_INITIAL_BLOCK_RANGE", default=100)
RELAYER_MAX_BLOCK_RANGE = env.int("RELAYER_MAX_BLOCK_RANGE", default=2000)
RELAYER_QUIET_LOGS_PER_RANGE = env.int("RELAYER_QUIET_LOGS_PER_RANGE", default=1000)
RELAYER_MAX_ADDRESSES_PER_CALL = env.int("RELAYER_MAX_ADDRESSES_PER_CALL", default=500)
RELAYER_HEADER_BATCH = env.int("RELAYER_HEADER_BATCH", default=100)
RELAYER_FETCH_AHEAD = env.bool("RELAYER_FETCH_AHEAD", default=True)
RELAYER_REORG_HISTORY = env.int("RELAYER_REORG_HISTORY", default=256)
RELAYER_TICK_TIME_BUDGET_SECONDS = env.float("RELAYER_TICK_TIME_BUDGET_SECONDS", default=25.0)
# Beat fans out one relay task per enabled chain whose own poll interval (Chain.poll_interval_seconds,
# default 30 s) has elapsed; this is how often it looks.
RELAYER_BEAT_SECONDS = env.float("RELAYER_BEAT_SECONDS", default=5.0)
# deploy_local_chain / make run: anvil on this port, chain registered as "local".
LOCAL_CHAIN_PORT = env.int("LOCAL_CHAIN_PORT", default=8545)
CELERY_BEAT_SCHEDULE["escrow-relay-chains"] = {
    "task": "escrow.relay_due_chains",
    "schedule": RELAYER_BEAT_SECONDS,
    "options": {"expires": RELAYER_BEAT_SECONDS * 2},
}
