"""The database password rotation function, with fakes of Secret Manager, Cloud SQL Admin and Cloud Run.

Those are external services; the fakes keep their state the way the services do (versions with
states and creation times, users with passwords), so the tests check outcomes, not call lists.
"""

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import environ
import pytest

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "deploy" / "functions" / "secret_rotation"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, FUNCTION_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # main.py imports `rotation` as a top-level module, as on Cloud Functions
    spec.loader.exec_module(module)
    return module


rotation = _load("rotation")
function_main = _load("main")

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CONFIG = rotation.RotationConfig(
    project_id="fp-prod",
    secret_id="database-url",
    instance="fp-pg",
    connection_name="fp-prod:europe-west1:fp-pg",
    database="fusionprime",
    users=("fusionprime_a", "fusionprime_b"),
    restart=(
        "projects/fp-prod/locations/europe-west1/services/fp-web",
        "projects/fp-prod/locations/europe-west1/workerPools/fp-worker",
    ),
    min_interval=timedelta(hours=1),
)


class FakeSecretManager:
    def __init__(self, clock):
        self.clock = clock
        self.versions = []  # dicts: name, value, state, created_at

    def enabled_versions(self):
        enabled = [v for v in self.versions if v["state"] == "ENABLED"]
        return [
            rotation.SecretVersion(name=v["name"], value=v["value"], created_at=v["created_at"])
            for v in sorted(enabled, key=lambda v: v["created_at"], reverse=True)
        ]

    def add_version(self, value):
        name = f"projects/fp-prod/secrets/database-url/versions/{len(self.versions) + 1}"
        self.versions.append({"name": name, "value": value, "state": "ENABLED", "created_at": self.clock()})
        return name

    def disable_version(self, name):
        next(v for v in self.versions if v["name"] == name)["state"] = "DISABLED"

    def latest_value(self):
        return self.enabled_versions()[0].value


class FakeCloudSql:
    def __init__(self, users=("fusionprime_a", "fusionprime_b"), fail_on=None):
        self.passwords = {user: None for user in users}
        self.fail_on = fail_on

    def list_users(self):
        return set(self.passwords)

    def set_password(self, *, user, password):
        if user == self.fail_on:
            raise RuntimeError("operation failed: INTERNAL_ERROR")
        self.passwords[user] = password

    def can_log_in(self, url):
        parts = environ.Env.db_url_config(url)
        return self.passwords.get(parts["USER"]) == parts["PASSWORD"] is not None


class FakeCloudRun:
    def __init__(self, broken=()):
        self.revisions = {resource: 1 for resource in CONFIG.restart}
        self.broken = set(broken)

    def roll(self, resource, *, reason):
        if resource in self.broken:
            raise RuntimeError("PERMISSION_DENIED")
        self.revisions[resource] += 1


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)


@pytest.fixture
def world():
    clock = Clock()
    passwords = iter(f"pw-{i}-{'x' * 20}" for i in range(1, 1000))
    return SimpleNamespace(
        clock=clock, store=FakeSecretManager(clock), sql=FakeCloudSql(), run=FakeCloudRun(), passwords=passwords
    )


def _rotate(world, **kwargs):
    return rotation.rotate(
        config=CONFIG,
        store=world.store,
        sql=world.sql,
        roller=world.run,
        now=world.clock(),
        make_password=lambda: next(world.passwords),
        **kwargs,
    )


def test_first_run_bootstraps_the_first_user_and_writes_a_working_database_url(world):
    result = _rotate(world)

    assert result.outcome == "rotated"
    assert result.rotated_user == "fusionprime_a" and result.previous_user is None
    url = world.store.latest_value()
    assert world.sql.can_log_in(url)
    parsed = environ.Env.db_url_config(url)
    assert parsed["OPTIONS"]["host"] == "/cloudsql/fp-prod:europe-west1:fp-pg"
    assert parsed["NAME"] == "fusionprime"
    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    # nothing runs with database credentials before the first version, so nothing is rolled
    assert set(world.run.revisions.values()) == {1}


def test_the_database_url_format_connects_through_a_unix_socket_with_django_environ_and_psycopg():
    # given a URL as the function writes it, pointing at this machine's PostgreSQL socket directory
    socket_dir = "/var/run/postgresql"
    if not Path(socket_dir, ".s.PGSQL.5432").exists():
        pytest.skip("no local PostgreSQL unix socket at /var/run/postgresql (the tests' server listens on TCP only)")
    url = rotation.database_url(user="postgres", password="p@ss/w:rd?&=", socket_dir=socket_dir, database="postgres")

    # when Django's settings parse it and psycopg connects with those parameters
    import psycopg

    config = environ.Env.db_url_config(url)
    assert config["PASSWORD"] == "p@ss/w:rd?&="
    with psycopg.connect(
        dbname=config["NAME"], user=config["USER"], password=config["PASSWORD"], connect_timeout=5, **config["OPTIONS"]
    ) as connection:
        # then it reached the server over the socket (no TCP peer address)
        assert connection.execute("select inet_client_addr()").fetchone()[0] is None


def test_rotation_alternates_users_and_the_running_credentials_stay_valid(world):
    _rotate(world)
    running_url = world.store.latest_value()  # what instances started so far use
    revisions_before = dict(world.run.revisions)
    world.clock.advance(days=30)

    result = _rotate(world)

    # then the idle user got the new password, and the live one was not touched
    assert (result.previous_user, result.rotated_user) == ("fusionprime_a", "fusionprime_b")
    assert world.sql.can_log_in(running_url), "running instances must keep working"
    assert world.sql.can_log_in(world.store.latest_value())
    assert all(world.run.revisions[r] == revisions_before[r] + 1 for r in CONFIG.restart), "every tier rolled"

    world.clock.advance(days=30)
    third = _rotate(world)
    assert third.rotated_user == "fusionprime_a"
    assert not world.sql.can_log_in(running_url), "the user idle since the last roll gets a new password"


def test_old_versions_are_disabled_keeping_the_current_and_previous(world):
    for _ in range(4):
        _rotate(world)
        world.clock.advance(days=30)

    states = [v["state"] for v in world.store.versions]
    assert states == ["DISABLED", "DISABLED", "ENABLED", "ENABLED"]


def test_a_rotation_soon_after_the_previous_is_skipped_unless_forced(world):
    _rotate(world)
    world.clock.advance(minutes=10)

    skipped = _rotate(world)
    assert skipped.outcome == "skipped"
    assert "600s old" in skipped.reason
    assert len(world.store.versions) == 1

    forced = _rotate(world, force=True)
    assert forced.outcome == "rotated"


def test_a_cloud_sql_failure_leaves_the_live_credentials_untouched(world):
    _rotate(world)
    live = world.store.latest_value()
    world.clock.advance(days=30)
    world.sql.fail_on = "fusionprime_b"

    with pytest.raises(RuntimeError, match="INTERNAL_ERROR"):
        _rotate(world)

    assert world.store.latest_value() == live
    assert world.sql.can_log_in(live)


def test_a_failed_roll_is_reported_after_the_secret_is_consistent(world):
    _rotate(world)
    world.clock.advance(days=30)
    world.run.broken = {CONFIG.restart[1]}
    web_revision = world.run.revisions[CONFIG.restart[0]]

    with pytest.raises(rotation.RotationError, match="workerPools/fp-worker: PERMISSION_DENIED"):
        _rotate(world)

    assert world.sql.can_log_in(world.store.latest_value())
    assert world.run.revisions[CONFIG.restart[0]] == web_revision + 1, "the other tiers were still rolled"


def test_a_database_url_for_an_unknown_user_stops_the_rotation(world):
    world.store.add_version("postgres://someone_else:pw@%2Fcloudsql%2Fx/fusionprime")
    world.clock.advance(days=30)

    with pytest.raises(rotation.RotationError, match="someone_else"):
        _rotate(world)
    assert all(password is None for password in world.sql.passwords.values())


def test_missing_database_users_stop_the_rotation_before_any_change(world):
    world.sql = FakeCloudSql(users=("fusionprime_a",))
    with pytest.raises(rotation.RotationError, match="fusionprime_b"):
        _rotate(world)
    assert world.store.versions == []


def test_passwords_are_long_random_and_url_safe():
    first, second = rotation.new_password(), rotation.new_password()
    assert first != second and len(first) >= 40
    assert rotation.database_url(user="u", password=first, socket_dir="/cloudsql/p:r:i", database="d").count(first) == 1


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"eventType": "SECRET_ROTATE", "secretId": "projects/fp-prod/secrets/database-url"}, (True, False)),
        (
            {"eventType": "SECRET_ROTATE", "secretId": "projects/fp-prod/secrets/database-url", "force": "true"},
            (True, True),
        ),
        # Its own add_version notifies the same topic: that must not start another rotation.
        ({"eventType": "SECRET_VERSION_ADD", "secretId": "projects/fp-prod/secrets/database-url"}, (False, False)),
        ({"eventType": "SECRET_ROTATE", "secretId": "projects/fp-prod/secrets/other"}, (False, False)),
        ({}, (False, False)),
    ],
)
def test_only_rotate_notifications_for_the_configured_secret_start_a_rotation(attributes, expected):
    assert function_main.should_rotate(attributes, CONFIG) == expected


def test_configuration_is_read_from_the_environment_terraform_sets():
    config = function_main.config_from_env(
        {
            "GCP_PROJECT_ID": "fp-prod",
            "ROTATION_SECRET_ID": "database-url",
            "ROTATION_SQL_INSTANCE": "fp-pg",
            "ROTATION_SQL_CONNECTION": "fp-prod:europe-west1:fp-pg",
            "ROTATION_DATABASE": "fusionprime",
            "ROTATION_USERS": "fusionprime_a,fusionprime_b",
            "ROTATION_RESTART": "projects/p/locations/r/services/web, projects/p/locations/r/workerPools/w",
            "ROTATION_MIN_INTERVAL_S": "7200",
        }
    )
    assert config.users == ("fusionprime_a", "fusionprime_b")
    assert config.restart == ("projects/p/locations/r/services/web", "projects/p/locations/r/workerPools/w")
    assert config.min_interval == timedelta(hours=2)
    with pytest.raises(ValueError, match="two distinct"):
        rotation.RotationConfig(
            project_id="p", secret_id="s", instance="i", connection_name="c", database="d", users=("a", "a")
        )


def test_the_function_environment_in_terraform_is_what_the_function_reads():
    from tests.deploy.hcl import module_blocks

    function = module_blocks("security")["resource"]["google_cloudfunctions2_function"]["rotation"]
    env_names = set(function["service_config"][0]["environment_variables"])
    source = (FUNCTION_DIR / "main.py").read_text()
    read = {name for name in env_names if f'"{name}"' in source}
    assert env_names - read <= {"LOG_EXECUTION_ID"}, env_names - read
    assert function["build_config"][0]["entry_point"] == "rotate_handler"
    assert hasattr(function_main, "rotate_handler")
