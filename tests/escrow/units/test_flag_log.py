import logging

import pytest
from django.db import transaction

from escrow.models import FlagKind, TreasuryFlag
from escrow.services import chain_register, flags_raise

pytestmark = pytest.mark.django_db


def test_a_batch_of_flags_is_logged_once_per_kind_and_only_when_committed(caplog, django_capture_on_commit_callbacks):
    chain = chain_register(name="flag-log", chain_id=31337, factory_address="0x" + "11" * 20, rpc_urls=[])
    batch = [(FlagKind.UNKNOWN_SETTLEMENT_REF, f"ref {i} is not ours", None, None, None) for i in range(3)]
    batch.append((FlagKind.REORG_TERMINAL, "a reorg removed a release", None, None, None))
    caplog.set_level(logging.WARNING, logger="escrow.services")

    # a batch rolled back leaves neither rows nor log lines
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            flags_raise(chain=chain, flags=batch)
            raise RuntimeError("the range failed")
    assert not TreasuryFlag.objects.exists()
    assert not [r for r in caplog.records if r.msg == "escrow.flags_raised"]

    # a committed one: every flag stored, one line per kind with its count
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        flags_raise(chain=chain, flags=batch)
    assert TreasuryFlag.objects.count() == 4
    lines = {r.kind: r for r in caplog.records if r.msg == "escrow.flags_raised"}
    assert (lines["unknown_settlement_ref"].count, lines["unknown_settlement_ref"].levelname) == (3, "WARNING")
    assert lines["unknown_settlement_ref"].detail == "ref 0 is not ours"
    assert (lines["reorg_terminal"].count, lines["reorg_terminal"].levelname) == (1, "ERROR")
