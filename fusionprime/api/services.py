import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fusionprime.api.models import ApiKey, IdempotencyRecord, Scope
from fusionprime.errors import ValidationError
from fusionprime.ids import new_id

KEY_PREFIX = "fpk"


def hash_secret(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough; it is never a password.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_key(raw_key: str) -> str | None:
    """Returns the public prefix of a well-formed key, else None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    raw_key: str


def api_key_create(*, name: str, scopes: list[str]) -> CreatedKey:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}.", param="scopes", code="unknown_scope")
    if not scopes:
        raise ValidationError("At least one scope is required.", param="scopes", code="scopes_required")
    if not name.strip():
        raise ValidationError("A name is required.", param="name", code="name_required")
    prefix = secrets.token_hex(6)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        id=new_id("key"), name=name.strip(), prefix=prefix, secret_hash=hash_secret(raw_key), scopes=sorted(set(scopes))
    )
    return CreatedKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def idempotency_records_purge(*, batch_size: int = 5000) -> int:
    """Deletes expired idempotency records in batches, so a backlog never holds a long lock."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).values_list("id", flat=True)[
                    :batch_size
                ]
            )
            if not ids:
                return total
            total += IdempotencyRecord.objects.filter(id__in=ids).delete()[0]
