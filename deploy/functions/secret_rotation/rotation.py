"""Database password rotation without downtime: two users, one live at a time.

Cloud SQL for PostgreSQL has no dual passwords, so the application has two login users with the
same privileges (members of one owner role, see deploy/README.md). DATABASE_URL in Secret Manager
names the live one. A rotation:

1. reads the latest DATABASE_URL version: its user is the live user; the other one is idle;
2. refuses if the previous rotation is younger than `min_interval` (instances still on the older
   user may not have been rolled yet);
3. sets a new random password on the idle user — nothing uses it, so nothing breaks;
4. adds a DATABASE_URL version for the idle user: instances started from now on use it, running
   ones keep their still-valid connections to the previous user;
5. rolls the Cloud Run services/worker pools to a new revision so every instance moves over
   (not on the first run, which only bootstraps the first user: nothing can be using it yet);
6. disables versions older than the newest `keep_versions` (never destroys: rollback is
   `gcloud secrets versions enable`).

The next rotation changes the other user's password: by then every instance is on the new one.
Each step is safe to repeat: a failure before 4 leaves the live user untouched; a failure after 4
leaves a consistent secret that the next run or a manual roll completes.

This module is pure logic over three small interfaces; main.py binds them to Google's clients.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

logger = logging.getLogger(__name__)


class RotationError(RuntimeError):
    """The rotation could not proceed; the message says what an operator must look at."""


@dataclass(frozen=True)
class SecretVersion:
    name: str
    value: str
    created_at: datetime


@dataclass(frozen=True)
class RotationConfig:
    project_id: str
    secret_id: str
    instance: str
    connection_name: str
    database: str
    users: tuple[str, str]
    restart: tuple[str, ...] = ()
    min_interval: timedelta = timedelta(hours=1)
    keep_versions: int = 2

    def __post_init__(self):
        if len(self.users) != 2 or self.users[0] == self.users[1]:
            raise ValueError("Exactly two distinct database users are needed.")
        if self.keep_versions < 2:
            raise ValueError("keep_versions must be at least 2: running instances use the previous version.")


@dataclass
class RotationResult:
    outcome: str  # rotated | skipped
    reason: str = ""
    rotated_user: str | None = None
    previous_user: str | None = None
    version: str | None = None
    disabled_versions: list[str] = field(default_factory=list)


class SecretStore(Protocol):
    def enabled_versions(self) -> list[SecretVersion]:
        """Enabled versions, newest first, with their payloads."""

    def add_version(self, value: str) -> str:
        """Adds a version; returns its resource name."""

    def disable_version(self, name: str) -> None: ...


class SqlAdmin(Protocol):
    def list_users(self) -> set[str]: ...

    def set_password(self, *, user: str, password: str) -> None:
        """Sets the password and returns once Cloud SQL reports the operation done."""


class RevisionRoller(Protocol):
    def roll(self, resource: str, *, reason: str) -> None:
        """Starts a new revision of a Cloud Run service or worker pool (same image and config)."""


def database_url(*, user: str, password: str, socket_dir: str, database: str) -> str:
    """DATABASE_URL for PostgreSQL on a unix socket directory (Cloud Run mounts Cloud SQL's at
    /cloudsql/<connection name>); django-environ passes `?host=` through to psycopg."""
    return (
        f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@/{quote(database, safe='')}"
        f"?host={quote(socket_dir, safe='/:')}"
    )


def user_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.username:
        raise RotationError("The current DATABASE_URL version is not a postgres:// URL with a user.")
    return unquote(parts.username)


def new_password() -> str:
    # URL-safe, 256 bits: no quoting surprises in DATABASE_URL or psql.
    return secrets.token_urlsafe(32)


def rotate(
    *,
    config: RotationConfig,
    store: SecretStore,
    sql: SqlAdmin,
    roller: RevisionRoller,
    now: datetime,
    force: bool = False,
    make_password=new_password,
) -> RotationResult:
    versions = store.enabled_versions()
    current = versions[0] if versions else None
    if current is None:
        previous_user, target = None, config.users[0]  # first run: bootstrap the first user
    else:
        previous_user = user_of(current.value)
        if previous_user not in config.users:
            raise RotationError(
                f"DATABASE_URL uses '{previous_user}', which is not one of the rotation users {config.users}."
            )
        target = config.users[1] if previous_user == config.users[0] else config.users[0]
        age = now - current.created_at
        if age < config.min_interval and not force:
            limit = int(config.min_interval.total_seconds())
            reason = f"previous rotation is {int(age.total_seconds())}s old (< {limit}s)"
            logger.warning("secret_rotation.skipped", extra={"reason": reason})
            return RotationResult(outcome="skipped", reason=reason, previous_user=previous_user)

    missing = set(config.users) - sql.list_users()
    if missing:
        raise RotationError(f"Cloud SQL instance {config.instance} lacks the users {sorted(missing)}.")

    password = make_password()
    sql.set_password(user=target, password=password)
    version = store.add_version(
        database_url(
            user=target, password=password, socket_dir=f"/cloudsql/{config.connection_name}", database=config.database
        )
    )
    logger.info("secret_rotation.version_added", extra={"user": target, "version": version})

    roll_errors = []
    # On the first run no instance can hold database credentials yet (and the tiers may not exist).
    for resource in config.restart if previous_user else ():
        try:
            roller.roll(resource, reason=f"database user {target}")
        except Exception as exc:  # noqa: BLE001 - every resource gets its roll; failures reported below
            roll_errors.append(f"{resource}: {exc}")

    disabled = []
    # The list was read before add_version: the new version is first, then versions[0], …
    for old in versions[config.keep_versions - 1 :]:
        store.disable_version(old.name)
        disabled.append(old.name)

    if roll_errors:
        # The secret is consistent; instances not rolled still use the previous (valid) user. The next
        # rotation would break them, so this must be fixed by hand (deploy/runbooks/secret-rotation-failure.md).
        raise RotationError("Rotated, but rolling failed for " + "; ".join(roll_errors))
    logger.info("secret_rotation.done", extra={"user": target, "previous_user": previous_user})
    return RotationResult(
        outcome="rotated", rotated_user=target, previous_user=previous_user, version=version, disabled_versions=disabled
    )
