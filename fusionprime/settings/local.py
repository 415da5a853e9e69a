"""Developer machine / `make run`: embedded defaults, no server to install by hand."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "local-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DJANGO_DEBUG", "True")
os.environ.setdefault("LOG_FORMAT", "plain")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # Web, worker and beat share one file: WAL and immediate transactions avoid "database is locked".
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
