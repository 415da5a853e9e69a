import pytest
from django.contrib.auth.models import User

from escrow.models import FlagKind, TreasuryFlag
from escrow.services import chain_register, flag_raise

pytestmark = pytest.mark.django_db


def test_treasury_resolves_flags_in_admin_and_an_already_resolved_one_is_reported(client):
    # given two open flags, one of which gets resolved elsewhere first
    chain = chain_register(name="admin-test", chain_id=31337, factory_address="0x" + "11" * 20, rpc_urls=[])
    open_flag = flag_raise(chain=chain, kind=FlagKind.UNKNOWN_TOKEN, detail="token 0xabc is not registered")
    done_flag = flag_raise(chain=chain, kind=FlagKind.SEQUENCE_GAP, detail="gap")
    TreasuryFlag.objects.filter(pk=done_flag.pk).update(resolved_at="2026-11-28T10:00:00Z", resolved_by="user:bob")
    client.force_login(User.objects.create_superuser("carol", password="pw-long-enough-1"))

    # when both are resolved with the admin action
    response = client.post(
        "/admin/escrow/treasuryflag/",
        {"action": "resolve", "_selected_action": [open_flag.pk, done_flag.pk]},
        follow=True,
    )

    # then the open one is resolved by the acting user, and the other is named with the reason
    page = response.content.decode()
    assert "Resolved flags: 1." in page
    assert f"{done_flag.pk}: Flag {done_flag.pk} is already resolved." in page
    open_flag.refresh_from_db()
    assert open_flag.resolved_by == "user:carol" and open_flag.resolution == "resolved in admin by user:carol"
