"""Settings shared by every environment. Everything configurable comes from the environment."""

from datetime import timedelta

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
# Called inside the transaction that records an event (e.g. to create webhook deliveries).
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
