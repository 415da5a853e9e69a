import random
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from escrow.localchain import escrow_wave
from escrow.models import Chain, ChainEvent, Checkpoint, Escrow
from escrow.tasks import relay_due_chains_task
from tests.escrow.support.compare import assert_recorded_equals_chain


def test_relay_once_and_backfill_record_the_chain_and_report_throughput(chain, driver):
    escrow_wave(driver, count=5, rng=random.Random(1))
    driver.mine(2)
    out = StringIO()
    call_command("relay", chain="local", once=True, stdout=out)
    assert "local: ok" in out.getvalue() and "events=25" in out.getvalue()

    # a backfill over blocks already relayed records nothing twice
    out, err = StringIO(), StringIO()
    call_command("backfill", chain="local", from_block=chain.start_block, stdout=out, stderr=err)
    assert "blocks/s" in out.getvalue() and "events/s" in out.getvalue()
    assert ChainEvent.objects.count() == 25

    # a backfill with an explicit end stops there
    escrow_wave(driver, count=3, rng=random.Random(2))
    driver.mine(2)
    target = driver.block_number() - 4
    call_command(
        "backfill", chain="local", from_block=chain.start_block, to_block=target, stdout=StringIO(), stderr=StringIO()
    )
    assert Checkpoint.objects.get(chain=chain).block_number == target
    assert_recorded_equals_chain(chain, driver, up_to=target)


def test_backfill_finds_events_missed_below_the_checkpoint(chain, driver):
    escrow_wave(driver, count=4, rng=random.Random(3))
    driver.mine(2)
    call_command("relay", chain="local", once=True, stdout=StringIO())
    # an event lost from the index (e.g. restored from an old backup) is found again and its escrow replayed
    victim = ChainEvent.objects.filter(event_name="Approved").first()
    escrow = victim.escrow
    victim.flags.all().delete()
    ChainEvent.objects.filter(pk=victim.pk).delete()
    call_command("backfill", chain="local", from_block=chain.start_block, stdout=StringIO(), stderr=StringIO())
    assert ChainEvent.objects.count() == 20
    assert Escrow.objects.get(pk=escrow.pk).last_seq == 4
    assert_recorded_equals_chain(chain, driver, up_to=Checkpoint.objects.get(chain=chain).block_number)


def test_commands_refuse_unknown_chains_and_bad_ranges(db):
    with pytest.raises(CommandError, match="No chain named 'nope'"):
        call_command("relay", chain="nope", once=True)
    with pytest.raises(CommandError, match="No chain named"):
        call_command("backfill", chain="nope", from_block=1)


def test_backfill_refuses_a_gap_after_progress(chain, driver):
    escrow_wave(driver, count=1, rng=random.Random(4))
    driver.mine(2)
    call_command("relay", chain="local", once=True, stdout=StringIO())
    driver.mine(50)
    with pytest.raises(CommandError, match="gap"):
        call_command(
            "backfill", chain="local", from_block=driver.block_number() - 5, stdout=StringIO(), stderr=StringIO()
        )


def test_relay_once_fails_loudly_when_every_provider_is_down(make_chain, driver):
    make_chain(urls=["http://127.0.0.1:9"])
    with pytest.raises(CommandError, match="AllProvidersFailed"):
        call_command("relay", chain="local", once=True, stdout=StringIO())


def test_deploy_local_chain_deploys_the_factory_and_registers_the_chain(anvil, db):
    out = StringIO()
    call_command("deploy_local_chain", rpc_url=anvil.url, stdout=out)
    chain = Chain.objects.get(name="local")
    assert chain.chain_id == 31337 and chain.providers.get().url == anvil.url
    assert chain.tokens.get().asset_id == "ETH"
    assert "factory" in out.getvalue()
    # running it again keeps the deployed factory
    call_command("deploy_local_chain", rpc_url=anvil.url, stdout=StringIO())
    assert Chain.objects.get(name="local").factory_address == chain.factory_address


def test_beat_fans_out_one_tick_per_due_enabled_chain(chain, driver):
    escrow_wave(driver, count=2, rng=random.Random(5))
    driver.mine(2)
    assert relay_due_chains_task.delay().get() == [chain.pk]
    assert ChainEvent.objects.count() == 10
    # just ticked: not due again until its poll interval passed
    assert relay_due_chains_task.delay().get() == []
    time.sleep(1.05)
    assert relay_due_chains_task.delay().get() == [chain.pk]
    Chain.objects.filter(pk=chain.pk).update(enabled=False)
    assert relay_due_chains_task.delay().get() == []


def test_escrow_demo_drives_a_settlement_to_settled_through_the_chain(chain, driver):
    from settlements.models import Settlement

    out = StringIO()
    call_command("escrow_demo", count=1, every=0, stdout=out)
    assert "released on chain" in out.getvalue()
    driver.mine(2)
    assert relay_due_chains_task.delay().get() == [chain.pk]
    assert Settlement.objects.get(reference__startswith="DEMO-ESC-").status == "settled"
