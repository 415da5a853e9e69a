"""Cloud Function (2nd gen) entry point: Secret Manager's SECRET_ROTATE notification → rotation.

Google clients are bound here, outside rotation.py, so the logic is tested with fakes
(tests/deploy/test_secret_rotation.py). Configuration comes from environment variables set by
deploy/terraform/modules/security.
"""

import logging
import os
import time
from datetime import UTC, datetime, timedelta

from rotation import RotationConfig, RotationError, SecretVersion, rotate

logger = logging.getLogger("secret_rotation")
logging.basicConfig(level=logging.INFO)

SQLADMIN = "https://sqladmin.googleapis.com/v1"
RUN = "https://run.googleapis.com/v2"
HTTP_TIMEOUT = 30
OPERATION_TIMEOUT_SECONDS = 300


def config_from_env(env=os.environ) -> RotationConfig:
    users = tuple(u.strip() for u in env["ROTATION_USERS"].split(",") if u.strip())
    return RotationConfig(
        project_id=env["GCP_PROJECT_ID"],
        secret_id=env["ROTATION_SECRET_ID"],
        instance=env["ROTATION_SQL_INSTANCE"],
        connection_name=env["ROTATION_SQL_CONNECTION"],
        database=env["ROTATION_DATABASE"],
        users=users,
        restart=tuple(r.strip() for r in env.get("ROTATION_RESTART", "").split(",") if r.strip()),
        min_interval=timedelta(seconds=int(env.get("ROTATION_MIN_INTERVAL_S", "3600"))),
        keep_versions=int(env.get("ROTATION_KEEP_VERSIONS", "2")),
    )


def should_rotate(attributes: dict, config: RotationConfig) -> tuple[bool, bool]:
    """(rotate?, force?) for a notification. The secret's topic also receives every other event
    (SECRET_VERSION_ADD, including the one this function causes): only SECRET_ROTATE for our
    secret starts a rotation."""
    if attributes.get("eventType") != "SECRET_ROTATE":
        return False, False
    secret = attributes.get("secretId", "")
    if secret.rsplit("/", 1)[-1] != config.secret_id:
        return False, False
    return True, attributes.get("force", "").lower() == "true"


class GoogleSecretStore:
    def __init__(self, project_id: str, secret_id: str):
        from google.cloud import secretmanager

        self.client = secretmanager.SecretManagerServiceClient()
        self.parent = self.client.secret_path(project_id, secret_id)

    def enabled_versions(self) -> list[SecretVersion]:
        from google.cloud import secretmanager

        listed = self.client.list_secret_versions(request={"parent": self.parent, "filter": "state:ENABLED"})
        versions = []
        for version in listed:
            if version.state != secretmanager.SecretVersion.State.ENABLED:
                continue
            payload = self.client.access_secret_version(request={"name": version.name}).payload.data.decode()
            versions.append(SecretVersion(name=version.name, value=payload, created_at=version.create_time))
        return sorted(versions, key=lambda v: v.created_at, reverse=True)

    def add_version(self, value: str) -> str:
        return self.client.add_secret_version(request={"parent": self.parent, "payload": {"data": value.encode()}}).name

    def disable_version(self, name: str) -> None:
        self.client.disable_secret_version(request={"name": name})


def _session():
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return AuthorizedSession(credentials)


def _wait(session, url: str, *, done) -> None:
    deadline = time.monotonic() + OPERATION_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        body = session.get(url, timeout=HTTP_TIMEOUT).json()
        if done(body):
            if body.get("error"):
                raise RotationError(f"Operation failed: {body['error']}")
            return
        time.sleep(2)
    raise RotationError(f"Operation did not finish in {OPERATION_TIMEOUT_SECONDS}s: {url}")


class GoogleSqlAdmin:
    def __init__(self, project_id: str, instance: str):
        self.session = _session()
        self.project_id = project_id
        self.base = f"{SQLADMIN}/projects/{project_id}/instances/{instance}"

    def list_users(self) -> set[str]:
        response = self.session.get(f"{self.base}/users", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return {user["name"] for user in response.json().get("items", [])}

    def set_password(self, *, user: str, password: str) -> None:
        response = self.session.put(
            f"{self.base}/users",
            params={"name": user},
            json={"name": user, "password": password},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        operation = response.json()["name"]
        _wait(
            self.session,
            f"{SQLADMIN}/projects/{self.project_id}/operations/{operation}",
            done=lambda body: body.get("status") == "DONE",
        )


class GoogleRevisionRoller:
    """Patches a template label, which makes Cloud Run start a new revision with the same image."""

    def __init__(self):
        self.session = _session()

    def roll(self, resource: str, *, reason: str) -> None:
        current = self.session.get(f"{RUN}/{resource}", timeout=HTTP_TIMEOUT)
        current.raise_for_status()
        template = current.json().get("template", {})
        labels = {**template.get("labels", {}), "db-rotated-at": datetime.now(UTC).strftime("%Y%m%dt%H%M%S")}
        response = self.session.patch(
            f"{RUN}/{resource}",
            params={"updateMask": "template.labels"},
            json={"template": {"labels": labels}},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        operation = response.json()["name"]
        _wait(self.session, f"{RUN}/{operation}", done=lambda body: body.get("done", False))
        logger.info("secret_rotation.rolled", extra={"resource": resource, "reason": reason})


def rotate_entry(cloud_event) -> None:
    """Function entry point (exported as `rotate_handler`, the entry_point in modules/security)."""
    attributes = cloud_event.data.get("message", {}).get("attributes") or {}
    config = config_from_env()
    go, force = should_rotate(attributes, config)
    if not go:
        logger.info("secret_rotation.ignored", extra={"event_type": attributes.get("eventType")})
        return
    try:
        result = rotate(
            config=config,
            store=GoogleSecretStore(config.project_id, config.secret_id),
            sql=GoogleSqlAdmin(config.project_id, config.instance),
            roller=GoogleRevisionRoller(),
            now=datetime.now(UTC),
            force=force,
        )
    except RotationError:
        # ERROR severity feeds the rotation-failure alert (modules/observability).
        logger.exception("secret_rotation.failed")
        raise
    logger.info("secret_rotation.result", extra={"outcome": result.outcome, "reason": result.reason})


try:  # The framework exists in the function's runtime, not in the app's virtualenv.
    import functions_framework
except ImportError:  # pragma: no cover - only outside Cloud Functions
    functions_framework = None

rotate_handler = functions_framework.cloud_event(rotate_entry) if functions_framework else rotate_entry
