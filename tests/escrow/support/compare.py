"""The ground truth: what a direct eth_getLogs says the canonical chain holds."""

from escrow.models import ChainEvent, Escrow


def canonical_keys(chain, driver, *, up_to: int) -> set[tuple]:
    addresses = [chain.factory_address, *Escrow.objects.filter(chain=chain).values_list("address", flat=True)]
    logs = []
    for i in range(0, len(addresses), 500):
        logs += driver.get_logs(addresses[i : i + 500], chain.start_block, up_to)
    return {(log["blockHash"].lower(), int(log["logIndex"], 16), log["transactionHash"].lower()) for log in logs}


def assert_recorded_equals_chain(chain, driver, *, up_to: int) -> None:
    recorded = list(
        ChainEvent.objects.filter(chain=chain, removed=False, block_number__lte=up_to).values_list(
            "block_hash", "log_index", "tx_hash"
        )
    )
    assert len(recorded) == len(set(recorded)), "an event is recorded twice"
    expected = canonical_keys(chain, driver, up_to=up_to)
    missing = expected - set(recorded)
    extra = set(recorded) - expected
    assert not missing and not extra, (
        f"missing {len(missing)} {sorted(missing)[:3]}, extra {len(extra)} {sorted(extra)[:3]}"
    )
