"""The container image, checked without a Docker engine: the Dockerfile's rules, the entrypoint's
role dispatch (with stand-in binaries), and the web role for real (gunicorn + production settings +
whitenoise on a loopback port)."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent

FAKE_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "fusionprime.settings.production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-fake-production-secret-for-the-test-only",
    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
    "DATABASE_URL": "postgres://app:fake@127.0.0.1:5432/fusionprime",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "WEBHOOKS_SECRET_KEY": "fake-webhook-encryption-key-for-the-test-only",
    "LOG_FORMAT": "plain",
}


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _args() -> dict[str, str]:
    return dict(arg.split("=", 1) for kind, arg in _instructions() if kind == "ARG" and "=" in arg)


def test_the_image_is_multi_stage_on_the_projects_python():
    stages = [arg for kind, arg in _instructions() if kind == "FROM"]
    assert len(stages) >= 3 and all(" AS " in stage for stage in stages)
    python_image = _args()["PYTHON_IMAGE"]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert re.fullmatch(rf"python:{re.escape(version)}(\.\d+)?-slim(-\w+)?", python_image), python_image
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">={version}"' in pyproject


def test_the_image_runs_as_a_non_root_user_with_an_entrypoint_per_role():
    kinds = _instructions()
    users = [arg for kind, arg in kinds if kind == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert [arg for kind, arg in kinds if kind == "ENTRYPOINT"][-1].endswith('"/app/deploy/entrypoint.sh"]')
    assert [arg for kind, arg in kinds if kind == "CMD"][-1] == '["web"]'
    healthcheck = [arg for kind, arg in kinds if kind == "HEALTHCHECK"]
    assert healthcheck and "healthcheck" in healthcheck[0]


def test_dependencies_are_installed_from_pinned_requirements():
    assert "-r /tmp/requirements/base.txt" in DOCKERFILE and "pip check" in DOCKERFILE
    for path in (ROOT / "requirements").glob("*.txt"):
        if path.name.startswith("dev"):
            continue
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                assert re.match(r"^[A-Za-z0-9_.\-\[\],]+==[^=\s]+", line), f"{path.name}: unpinned {line!r}"


def test_the_beam_sdk_image_matches_the_beam_the_pipeline_is_built_with():
    beam_image = _args()["BEAM_SDK_IMAGE"]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert beam_image.startswith(f"apache/beam_python{version}_sdk:")
    pinned = [
        m
        for path in (ROOT / "requirements").glob("*.txt")
        for m in re.findall(r"^apache-beam(?:\[[^\]]*\])?==([^\s;]+)", path.read_text(), re.MULTILINE)
    ]
    if pinned:
        assert beam_image.endswith(f":{pinned[0]}"), (beam_image, pinned)
    else:
        beam = pytest.importorskip("apache_beam", reason="apache-beam is neither pinned in requirements/ nor installed")
        assert beam_image.endswith(f":{beam.__version__}"), (beam_image, beam.__version__)


def test_static_files_are_collected_at_build_time():
    run_lines = [arg for kind, arg in _instructions() if kind == "RUN"]
    assert any("manage.py collectstatic --noinput" in line for line in run_lines)
    production = (ROOT / "fusionprime" / "settings" / "production.py").read_text()
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in production


def test_dockerignore_keeps_tests_dependencies_and_local_data_out():
    patterns = set((ROOT / ".dockerignore").read_text().split())
    assert {"tests", "node_modules", "var", ".venv", ".env", ".git"} <= patterns


# --- entrypoint.sh: each role runs the right program --------------------------------------------
@pytest.fixture
def stubbed(tmp_path):
    """Stand-ins for gunicorn, celery, python and Dataflow's binaries that print their command line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gunicorn", "celery", "python", "boot", "launcher"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*"\n')
        stub.chmod(0o755)

    def run(*args, **env):
        environment = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "APP_DIR": "/app",
            "BEAM_BOOT": str(bin_dir / "boot"),
            "FLEX_LAUNCHER": str(bin_dir / "launcher"),
            **env,
        }
        return subprocess.run(
            ["sh", str(ENTRYPOINT), *args], env=environment, capture_output=True, text=True, timeout=30
        )

    return run


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {}, ["gunicorn --config /app/deploy/gunicorn.conf.py fusionprime.wsgi:application"]),
        (("web",), {}, ["gunicorn --config /app/deploy/gunicorn.conf.py fusionprime.wsgi:application"]),
        (
            ("worker",),
            {"CELERY_WORKER_CONCURRENCY": "6"},
            [
                "celery --app fusionprime worker --loglevel INFO --concurrency 6 --max-tasks-per-child 1000 "
                "--without-gossip --without-mingle"
            ],
        ),
        (("beat",), {}, ["celery --app fusionprime beat --loglevel INFO"]),
        (
            ("migrate",),
            {},
            ["python /app/manage.py migrate --noinput", "python /app/manage.py check --deploy --fail-level WARNING"],
        ),
        (
            ("migrate",),
            {"BOOTSTRAP_AFTER_MIGRATE": "true"},
            [
                "python /app/manage.py migrate --noinput",
                "python /app/manage.py pubsub_bootstrap",
                "python /app/manage.py bigquery_bootstrap",
                "python /app/manage.py check --deploy --fail-level WARNING",
            ],
        ),
        (
            ("beam", "--runner", "DataflowRunner"),
            {},
            ["python /app/deploy/dataflow_launcher.py --runner DataflowRunner"],
        ),
        (("manage", "createsuperuser"), {}, ["python /app/manage.py createsuperuser"]),
        (("--id=1", "--logging_endpoint=x"), {}, ["boot --id=1 --logging_endpoint=x"]),
        (("web",), {"FLEX_TEMPLATE_PYTHON_PY_FILE": "/app/deploy/dataflow_launcher.py"}, ["launcher "]),
    ],
)
def test_the_entrypoint_runs_each_role(stubbed, args, env, expected):
    result = stubbed(*args, **env)
    assert result.returncode == 0, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == [line.rstrip() for line in expected]


def test_the_entrypoint_refuses_an_unknown_role(stubbed):
    result = stubbed("webb")
    assert result.returncode == 64
    assert "Unknown role 'webb'" in result.stderr


def test_a_failed_migration_stops_the_migrate_role(stubbed, tmp_path):
    failing = tmp_path / "bin" / "python"
    failing.write_text('#!/bin/sh\necho "python $*"\nexit 3\n')
    result = stubbed("migrate")
    assert result.returncode == 3
    assert "check --deploy" not in result.stdout


# --- the web role for real ----------------------------------------------------------------------
def _collectstatic_build_env() -> dict[str, str]:
    """The variables the Dockerfile's collectstatic step sets (and the image's ENV), exactly."""
    run = next(arg for kind, arg in _instructions() if kind == "RUN" and "collectstatic" in arg)
    assignments = dict(re.findall(r"\b([A-Z_]+)=(\S+)", run.split("python manage.py collectstatic")[0]))
    image_env = next(arg for kind, arg in _instructions() if kind == "ENV" and "DJANGO_SETTINGS_MODULE" in arg)
    return {**dict(re.findall(r"\b([A-Z_]+)=(\S+)", image_env)), **assignments}


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    static_root = tmp_path_factory.mktemp("static")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "WEBHOOKS_", "CELERY_"))}
    # The build step must work with only what the Dockerfile gives it (no database, no broker).
    build_env = {
        **clean,
        **_collectstatic_build_env(),
        "PATH": clean.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    assert build_env["DJANGO_SETTINGS_MODULE"] == "fusionprime.settings.production"
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=build_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    env = {**clean, **FAKE_PRODUCTION_ENV, "DJANGO_STATIC_ROOT": str(static_root)}
    port = free_port()
    env.update(
        {
            "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
            "APP_DIR": str(ROOT),
            "PORT": str(port),
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "2",
            "GUNICORN_TIMEOUT": "20",
        }
    )
    proc = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60, proc=proc, what="gunicorn (web role)")
        yield port, static_root
    finally:
        stop(proc)


def _get(port: int, path: str, **headers):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "localhost", **headers})
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback test server


def test_the_web_role_serves_health_and_hashed_static_files_with_production_settings(web_server):
    port, static_root = web_server
    with _get(port, "/healthz") as response:
        assert response.status == 200
        assert response.read() == b'{"status": "ok"}'

    manifest = (static_root / "staticfiles.json").read_text()
    hashed = re.search(r'"admin/css/base\.css": "(admin/css/base\.[0-9a-f]{12}\.css)"', manifest).group(1)
    # Cloud Run's front end terminates TLS and says so in X-Forwarded-Proto.
    with _get(port, f"/static/{hashed}", **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
