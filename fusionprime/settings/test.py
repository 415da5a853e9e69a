"""Test settings: real PostgreSQL and Redis, never a silent fallback to SQLite."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fusionprime")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CACHE_URL", "rediscache://127.0.0.1:6379/15")
os.environ.setdefault("LOG_FORMAT", "json")

from .base import *  # noqa: E402,F403
from .base import DATABASES, env  # noqa: E402

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("Tests run against PostgreSQL only; set DATABASE_URL to a postgres:// URL.")
DATABASES["default"]["CONN_MAX_AGE"] = 0

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks inline on purpose; they say so instead of relying on a missing broker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
EVENT_SPOOL_PATH = env.path("EVENT_SPOOL_PATH", default=BASE_DIR / "var" / "test-events.spool.jsonl")  # noqa: F405
EVENT_PUBLISH_TIMEOUT_SECONDS = 10.0
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api_key": env("API_RATE_LIMIT", default="100000/min")}  # noqa: F405
