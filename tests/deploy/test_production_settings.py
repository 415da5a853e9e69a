import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "fusionprime.settings.production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-fake-production-secret-for-the-check-only",
    "DJANGO_ALLOWED_HOSTS": "api.fusionprime.example",
    "DATABASE_URL": "postgres://app:fake@127.0.0.1:5432/fusionprime",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
    "WEBHOOKS_SECRET_KEY": "fake-webhook-encryption-key-for-the-check-only",
}


def _manage(*args, env_overrides=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "WEBHOOKS_"))}
    env.update(FAKE_PRODUCTION_ENV)
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env_without = {k: v for k, v in FAKE_PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    missing = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}, **env_without},
    )
    assert missing.returncode != 0
    assert "DJANGO_SECRET_KEY" in missing.stderr
