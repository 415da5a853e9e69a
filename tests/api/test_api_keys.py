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
