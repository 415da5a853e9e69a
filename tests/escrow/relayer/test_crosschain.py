"""Cross-chain instructions (Axelar GMP, issue 8) through the relayer, on anvil with the contracts'
own artifacts: the gateway and gas-service doubles, the sender and the handler."""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from eth_utils import keccak

from escrow import services
from escrow.localchain import CROSSCHAIN_SOURCE, CrossChainDriver
from escrow.models import ChainEvent, CrossChainInstruction, Escrow, InstructionKind, WatchedContract
from escrow.refs import settlement_ref_for
from fusionprime.errors import ValidationError
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.escrow.conftest import relay
from tests.factories import SettlementFactory

ETH = 10**18
APPROVE, RELEASE = InstructionKind.APPROVE.value, InstructionKind.RELEASE.value


@pytest.fixture
def crosschain(chain, driver):
    cc_driver = CrossChainDriver(driver)
    cc = cc_driver.deploy()
    services.watched_contract_register(chain=chain, address=cc.handler, kind="instruction_handler", label="handler")
    services.watched_contract_register(chain=chain, address=cc.sender, kind="instruction_sender", label="sender")
    return cc_driver


def _escrow_approved_by_handler(driver, handler, settlement, *, release_time):
    payer, payee = driver.accounts[1:3]
    escrow, tx = driver.create_escrow(
        payer=payer,
        amount=ETH // 2,
        payee=payee,
        settlement_ref=settlement_ref_for(settlement.id),
        approvers=[handler],
        threshold=1,
        release_time=release_time,
        deadline=driver.now() + 86400,
    )
    driver.receipt(tx)
    return escrow


def _instruction(nonce):
    return CrossChainInstruction.objects.exclude(status="rejected").get(nonce=nonce)


def test_handler_events_are_chain_events_on_the_escrow_timeline_and_a_failed_release_settles_on_retry(
    client, django_user_model, chain, driver, crosschain
):
    # given a settlement backed by an escrow whose only approver is the cross-chain handler (1-hour timelock)
    cc = crosschain.cc
    settlement = SettlementFactory(amount="0.5", asset="ETH", rail="escrow", chain_id=31337)
    escrow = _escrow_approved_by_handler(driver, cc.handler, settlement, release_time=driver.now() + 3600)

    # when the treasury sends Approve then Release through the gateway, Axelar delivers both, and a
    # replay of the Approve arrives under a new command id
    approve = crosschain.send(escrow, APPROVE)
    assert approve == crosschain.payload(nonce=1, kind=APPROVE, escrow=escrow)
    crosschain.deliver(approve)
    release = crosschain.send(escrow, RELEASE)
    crosschain.deliver(release)  # too early: the escrow reverts, the handler stores it as failed
    crosschain.deliver(approve)
    driver.mine(2)
    result = relay(chain)

    # then the handler's events are recorded as chain events linked to the escrow, in its event stream
    assert result.status == "ok", result.error
    row = Escrow.objects.get(address=escrow)
    handler_events = ChainEvent.objects.filter(address=cc.handler).order_by("block_number", "log_index")
    assert [e.event_name for e in handler_events] == [
        "OwnershipTransferred",
        "SourceSet",
        "MessageReceived",
        "InstructionExecuted",
        "MessageReceived",
        "InstructionFailed",
        "MessageRejected",
    ]
    assert all(e.contract == "EscrowInstructionHandler" for e in handler_events)
    assert {e.escrow_id for e in handler_events if "escrow" in e.args} == {row.id}
    assert handler_events.get(event_name="SourceSet").escrow_id is None
    # the sender's OpenZeppelin event is decoded with the sender's own ABI, not the handler's
    sender_events = ChainEvent.objects.filter(address=cc.sender).order_by("block_number", "log_index")
    assert [(e.contract, e.event_name) for e in sender_events] == [
        ("EscrowInstructionSender", "OwnershipTransferred"),
        ("EscrowInstructionSender", "InstructionSent"),
        ("EscrowInstructionSender", "InstructionSent"),
    ]
    assert sender_events.last().args["payloadHash"] == "0x" + keccak(release).hex()
    stream = list(
        Event.objects.filter(aggregate_type="escrow", aggregate_id=row.id)
        .order_by("sequence")
        .values_list("type", flat=True)
    )
    assert stream[:2] == ["escrow.escrow_created", "escrow.deposited"]
    assert "escrow.instruction_executed" in stream and "escrow.instruction_failed" in stream
    failed_event = Event.objects.get(aggregate_id=row.id, type="escrow.instruction_failed")
    assert failed_event.topic == "chain.events.v1"
    assert failed_event.data["contract_address"] == cc.handler and failed_event.data["escrow_id"] == row.id
    assert Event.objects.get(type="escrow.source_set").aggregate_id == f"31337:{cc.handler}"

    # and the instructions: approve executed, release failed with the escrow's reason, the replay rejected
    approved, failed = _instruction(1), _instruction(2)
    assert (approved.kind, approved.status, approved.escrow_id) == (APPROVE, "executed", row.id)
    assert (approved.source_chain, approved.source_address) == (CROSSCHAIN_SOURCE, cc.sender)
    assert (failed.kind, failed.status, failed.failures) == (RELEASE, "failed", 1)
    assert failed.reason.startswith("ReleaseTimelockActive(")
    rejected = CrossChainInstruction.objects.get(status="rejected")
    assert (rejected.nonce, rejected.reason, rejected.escrow_id) == (1, "Replay", row.id)
    assert row.approvals == 1 and row.state == "funded"

    # and the escrow's admin page shows them beside its own timeline
    staff = django_user_model.objects.create_superuser("ops", password="pw-ops-1234")
    client.force_login(staff)
    page = client.get(f"/admin/escrow/escrow/{row.pk}/change/").content.decode()
    assert page.index('class="escrow-timeline"') < page.index('class="escrow-instructions"')
    instructions = page[page.index('class="escrow-instructions"') :]
    assert "Approve" in instructions and "executed" in instructions and "Replay" in instructions
    assert "ReleaseTimelockActive(" in instructions and 'class="status-failed"' in instructions
    assert CROSSCHAIN_SOURCE in instructions and failed.tx_hash[:10] in instructions
    assert "(cross-chain)" in page[: page.index('class="escrow-instructions"')]
    assert "escrow-instructions-sent" in page  # the sender's InstructionSent, same dev chain

    # when the timelock passes and anyone retries the failed release
    driver.increase_time(3601)
    crosschain.retry(2, sender=driver.accounts[7])
    driver.mine(2)
    assert relay(chain).status == "ok"

    # then the instruction is executed, the escrow released and the settlement settled
    failed.refresh_from_db()
    assert (failed.status, failed.reason, failed.failures) == ("executed", "", 1)
    row.refresh_from_db()
    assert row.state == "released"
    assert Settlement.objects.get(pk=settlement.id).status == "settled"
    page = client.get(f"/admin/escrow/escrow/{row.pk}/change/").content.decode()
    assert 'class="status-failed"' not in page and "Released" in page

    # and the per-chain list filters by status
    listing = client.get(f"/admin/escrow/crosschaininstruction/?chain__id__exact={chain.pk}&status__exact=executed")
    assert listing.status_code == 200
    assert listing.content.decode().count("ReleaseTimelockActive") == 0
    assert 'class="field-nonce">2<' in listing.content.decode()


def test_deferred_instruction_runs_in_turn_and_a_reorg_removes_what_it_orphaned(chain, driver, crosschain):
    # given an escrow approved by the handler, and nonce 2 delivered before nonce 1
    settlement = SettlementFactory(amount="0.5", asset="ETH", rail="escrow", chain_id=31337)
    escrow = _escrow_approved_by_handler(driver, crosschain.cc.handler, settlement, release_time=0)
    crosschain.deliver(crosschain.payload(nonce=2, kind=RELEASE, escrow=escrow))
    driver.mine(2)
    assert relay(chain).status == "ok"
    deferred = _instruction(2)
    assert (deferred.status, deferred.expected_nonce) == ("deferred", 1)

    # when nonce 1 (Approve) arrives and the deferred release is retried in turn
    crosschain.deliver(crosschain.payload(nonce=1, kind=APPROVE, escrow=escrow))
    crosschain.retry(2)
    driver.mine(2)
    assert relay(chain).status == "ok"

    # then both executed and the escrow is released
    assert (_instruction(1).status, _instruction(2).status) == ("executed", "executed")
    assert Escrow.objects.get(address=escrow).state == "released"

    # when a reorg deeper than the confirmation depth orphans the approve and the retry
    driver.reorg(4)
    driver.mine(1)
    result = relay(chain)

    # then their chain events are removed, nonce 1 is gone and nonce 2 is deferred again
    assert result.status == "ok" and result.reorgs == 1, result.error
    assert not CrossChainInstruction.objects.filter(nonce=1).exists()
    assert _instruction(2).status == "deferred"
    assert ChainEvent.objects.filter(address=crosschain.cc.handler, removed=True).count() == 3
    assert Escrow.objects.get(address=escrow).state == "funded"
    assert Event.objects.filter(type="escrow.event_removed", data__contract="EscrowInstructionHandler").count() == 3


def test_watched_contracts_are_validated_and_settings_manage_their_own(chain, settings):
    with pytest.raises(ValidationError, match="not a watched contract kind"):
        services.watched_contract_register(chain=chain, address="0x" + "11" * 20, kind="oracle")
    with pytest.raises(ValidationError, match="20-byte address"):
        services.watched_contract_register(chain=chain, address="0x1234", kind="instruction_handler")
    assert not WatchedContract.objects.exists()

    settings.CHAIN_WATCHED_CONTRACTS = {"local": [f"instruction_handler:0x{'AB' * 20}"]}
    services.chain_sync_watched_contracts_from_settings(chain=chain)
    row = WatchedContract.objects.get()
    assert (row.address, row.kind, row.from_settings, row.enabled) == (
        "0x" + "ab" * 20,
        "instruction_handler",
        True,
        True,
    )
    settings.CHAIN_WATCHED_CONTRACTS = {"local": []}
    services.chain_sync_watched_contracts_from_settings(chain=chain)
    row.refresh_from_db()
    assert row.enabled is False
    settings.CHAIN_WATCHED_CONTRACTS = {"local": ["handler=0x" + "ab" * 20]}
    with pytest.raises(ImproperlyConfigured, match="CHAIN_WATCHED_CONTRACTS_LOCAL"):
        services.chain_sync_watched_contracts_from_settings(chain=chain)


def test_deploy_local_chain_can_deploy_and_watch_the_crosschain_contracts_once(db, anvil):
    from django.core.management import call_command

    call_command("deploy_local_chain", "--rpc-url", anvil.url, "--crosschain", stdout=(out := io.StringIO()))
    kinds = dict(WatchedContract.objects.values_list("kind", "address"))
    assert set(kinds) == {"instruction_handler", "instruction_sender"}
    assert f"handler {kinds['instruction_handler']}" in out.getvalue()

    call_command("deploy_local_chain", "--rpc-url", anvil.url, "--crosschain", stdout=(again := io.StringIO()))
    assert "already deployed and watched" in again.getvalue()
    assert WatchedContract.objects.count() == 2
