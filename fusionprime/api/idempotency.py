"""Idempotency keys, scoped to the API key (Stripe's model).

The key is claimed in its own short transaction so a concurrent duplicate sees it at once and
gets 409; the handler then runs in one transaction with the stored response, so a settlement and
the record of its response commit together. Server errors release the key instead of storing.
"""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fusionprime.api.exceptions import problem_exception_handler
from fusionprime.api.models import IdempotencyRecord
from fusionprime.errors import Conflict, Unprocessable, ValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(request, key: str, request_hash: str) -> IdempotencyRecord | None:
    """Returns None if this request owns the key now, or the completed record to replay."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # Losing this claim in a crash is harmless (nothing else was written), so its
                    # commit need not wait for the WAL flush; the request's main commit still does.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                IdempotencyRecord.objects.create(
                    api_key=request.auth,
                    key=key,
                    request_hash=request_hash,
                    state=IdempotencyRecord.State.IN_PROGRESS,
                    locked_at=now,
                    expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
                )
            return None
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(api_key=request.auth, key=key).first()
        if record is None:
            continue  # released between our insert and read: try again
        if record.expires_at < now:
            IdempotencyRecord.objects.filter(pk=record.pk, expires_at=record.expires_at).delete()
            continue
        if record.request_hash != request_hash:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request.",
                param=HEADER,
                code="idempotency_key_reused",
            )
        if record.state == IdempotencyRecord.State.COMPLETED:
            return record
        stale_before = now - settings.IDEMPOTENCY_LOCK_TIMEOUT
        if record.locked_at < stale_before and IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, locked_at=record.locked_at
        ).update(locked_at=now):
            return None  # the first attempt died holding the key: take it over
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            param=HEADER,
            code="idempotency_key_in_use",
        )
    raise Conflict("Could not claim the Idempotency-Key; retry.", param=HEADER, code="idempotency_key_in_use")


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(
        json.loads(bytes(record.response_body)) if record.response_body else None,
        status=record.response_status,
        content_type=record.response_content_type or None,
        headers={REPLAYED_HEADER: "true"},
    )
    if record.response_location:
        response["Location"] = record.response_location
    return response


def run_idempotent(request, handler: Callable[[], Response], view=None) -> Response:
    key = request.headers.get(HEADER, "")
    if not key:
        raise ValidationError(f"The {HEADER} header is required on POST.", param=HEADER, code="idempotency_key_missing")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"{HEADER} must be printable and at most {MAX_KEY_LENGTH} characters.",
            param=HEADER,
            code="idempotency_key_invalid",
        )
    request_hash = _request_hash(request)
    record = _claim(request, key, request_hash)
    if record is not None:
        return _replay(record)
    try:
        with transaction.atomic():
            try:
                response = handler()
            except Exception as exc:
                response = problem_exception_handler(exc, {"request": request, "view": view})
                if response.status_code >= 500:
                    raise
            if response.status_code >= 500:
                raise _ServerError
            IdempotencyRecord.objects.filter(api_key=request.auth, key=key).update(
                state=IdempotencyRecord.State.COMPLETED,
                response_status=response.status_code,
                response_body=JSONRenderer().render(response.data),
                response_content_type=response.content_type or "",
                response_location=response.get("Location", ""),
            )
    except BaseException:
        IdempotencyRecord.objects.filter(
            api_key=request.auth, key=key, state=IdempotencyRecord.State.IN_PROGRESS
        ).delete()
        raise
    return response


class _ServerError(Exception):
    pass
