"""Idempotency keys, scoped to the API key (Stripe's model).

The key is claimed in its own one-statement transaction so a concurrent duplicate sees it at once
and gets 409; the handler then runs in one transaction with the stored response, so a settlement
and the record of its response commit together. A client error rolls the handler's writes back and
is stored on its own; server errors release the key instead of storing.
"""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fusionprime.api.exceptions import problem_exception_handler
from fusionprime.api.models import IdempotencyRecord
from fusionprime.db import insert_unless_conflict, update_rows
from fusionprime.errors import Conflict, Unprocessable, ValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(request, key: str, request_hash: str) -> IdempotencyRecord:
    """Returns the record this request now owns (state in_progress), or a completed one to replay."""
    now = timezone.now()
    for _ in range(3):
        record = IdempotencyRecord(
            api_key=request.auth,
            key=key,
            request_hash=request_hash,
            state=IdempotencyRecord.State.IN_PROGRESS,
            locked_at=now,
            expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
        )
        # Losing a claim in a crash is harmless (nothing else was written), so its commit need not
        # wait for the WAL flush; the request's main commit still does.
        if insert_unless_conflict(record, on=("api_key", "key"), async_commit=True):
            return record
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
            return record  # the first attempt died holding the key: take it over
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
    record = _claim(request, key, _request_hash(request))
    if record.state == IdempotencyRecord.State.COMPLETED:
        return _replay(record)
    try:
        try:
            with transaction.atomic():
                response = handler()
                if response.status_code >= 500:
                    raise _ServerError
                _complete(record, response)
        except _ServerError:
            raise
        except Exception as exc:
            # The handler's writes are rolled back; a client error is still this key's answer.
            response = problem_exception_handler(exc, {"request": request, "view": view})
            if response.status_code >= 500:
                raise
            _complete(record, response)
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).delete()
        raise
    return response


def _complete(record: IdempotencyRecord, response: Response) -> None:
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = response.status_code
    record.response_body = JSONRenderer().render(response.data)
    record.response_content_type = response.content_type or ""
    record.response_location = response.get("Location", "")
    update_rows([record], _COMPLETED_FIELDS)


_COMPLETED_FIELDS = ["state", "response_status", "response_body", "response_content_type", "response_location"]


class _ServerError(Exception):
    pass
