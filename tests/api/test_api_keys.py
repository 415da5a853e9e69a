import pytest
from django.core.management import CommandError, call_command

from fusionprime.api.models import ApiKey
from fusionprime.api.services import api_key_create, hash_secret

pytestmark = pytest.mark.django_db


def test_create_api_key_command_prints_the_key_last_and_stores_only_a_hash(capsys):
    call_command("create_api_key", "--name", "erp", "--scopes", "settlements:read,settlements:write")
    raw_key = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw_key.startswith("fpk_")
    stored = ApiKey.objects.get(name="erp")
    assert stored.secret_hash == hash_secret(raw_key)
    assert raw_key not in str(stored.__dict__)
    assert stored.scopes == ["settlements:read", "settlements:write"]


def test_unknown_scopes_are_refused():
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "--name", "x", "--scopes", "settlements:admin")
    assert not ApiKey.objects.exists()


def test_keys_are_random():
    assert (
        api_key_create(name="a", scopes=["settlements:read"]).raw_key
        != api_key_create(name="b", scopes=["settlements:read"]).raw_key
    )


def test_expired_idempotency_records_are_purged_and_fresh_ones_kept(make_api_key):
    from datetime import timedelta

    from django.utils import timezone

    from fusionprime.api.models import IdempotencyRecord
    from fusionprime.api.services import idempotency_records_purge

    key = make_api_key().api_key
    now = timezone.now()
    for name, expires in (("old", now - timedelta(seconds=1)), ("fresh", now + timedelta(hours=47))):
        IdempotencyRecord.objects.create(
            api_key=key,
            key=name,
            request_hash="h",
            state="completed",
            locked_at=now,
            response_status=201,
            expires_at=expires,
        )
    assert idempotency_records_purge(batch_size=1) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
