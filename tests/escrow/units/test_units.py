import random

import pytest

from escrow.refs import settlement_id_from_ref, settlement_ref_for
from escrow.relayer.decoding import decode_log, event_table, topic_of
from escrow.relayer.fetch import bloom_may_contain
from escrow.relayer.providers import AllProvidersFailed, Endpoint, PoolConfig, ProviderPool, backoff_delay
from fusionprime.ids import new_id


def test_settlement_ref_round_trips_and_foreign_refs_map_to_nothing():
    settlement_id = new_id("stl")
    ref = settlement_ref_for(settlement_id)
    assert ref.startswith("0x" + "00" * 16) and len(ref) == 66
    assert settlement_id_from_ref(ref) == settlement_id
    assert settlement_id_from_ref(bytes.fromhex(ref[2:])) == settlement_id
    assert settlement_id_from_ref("0x" + "ab" * 32) is None
    assert settlement_id_from_ref("0x1234") is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    assert backoff_delay(0, base=1, cap=10, rng=lambda: 0.0) == 0.5
    assert backoff_delay(3, base=1, cap=10, rng=lambda: 1.0) == 8
    assert backoff_delay(10, base=1, cap=10, rng=lambda: 1.0) == 10
    values = {backoff_delay(2, base=1, cap=100, rng=random.random) for _ in range(20)}
    assert len(values) > 1 and all(2 <= v <= 4 for v in values)


def test_decoding_is_driven_by_every_abi_file():
    names = {(spec.contract, spec.name) for spec in event_table().values()}
    assert ("EscrowFactory", "EscrowCreated") in names and ("Escrow", "Released") in names
    assert decode_log({"topics": [], "data": "0x"}) is None
    assert decode_log({"topics": ["0x" + "11" * 32], "data": "0x"}) is None
    with pytest.raises(KeyError):
        topic_of("Escrow", "Nope")


def test_bloom_membership():
    from eth_utils import keccak

    address = "0x" + "12" * 20
    digest = keccak(bytes.fromhex(address[2:]))
    bloom = 0
    for i in (0, 2, 4):
        bloom |= 1 << (((digest[i] << 8) | digest[i + 1]) & 2047)
    assert bloom_may_contain(bloom, address)
    assert not bloom_may_contain(0, address)


def test_circuit_breaker_opens_after_repeated_failures_and_all_down_is_one_clear_error():
    sleeps = []
    pool = ProviderPool(
        [Endpoint(name="a", url="http://127.0.0.1:9"), Endpoint(name="b", url="http://127.0.0.1:9")],
        chain_id=1,
        config=PoolConfig(timeout=0.2, retry_rounds=3, backoff_base=0.01, breaker_failures=2, breaker_cooldown=60),
        sleep=sleeps.append,
    )
    with pytest.raises(AllProvidersFailed, match="no provider returned a head") as info:
        pool.refresh_heads()
    assert "a: ProviderError" in str(info.value)
    with pytest.raises(AllProvidersFailed):
        pool.refresh_heads()
    assert all(e.open_until > 0 for e in pool.endpoints)  # both breakers open after 2 failures


def test_revert_data_is_shown_by_error_name_and_shared_events_by_the_emitting_contracts_abi():
    from eth_abi import encode
    from eth_utils import keccak

    from escrow.relayer.decoding import decode_revert

    timelock = keccak(text="ReleaseTimelockActive(uint256)")[:4] + encode(["uint256"], [1767225600])
    assert decode_revert("0x" + timelock.hex()) == "ReleaseTimelockActive(1767225600)"
    assert decode_revert("0x08c379a0" + encode(["string"], ["nope"]).hex()) == "nope"
    assert decode_revert("0x") == "reverted without a reason"
    assert decode_revert("0xdeadbeef") == "0xdeadbeef"
    owner = "0x" + "00" * 12 + "11" * 20
    log = {
        "topics": [topic_of("EscrowInstructionSender", "OwnershipTransferred"), "0x" + "00" * 32, owner],
        "data": "0x",
        "address": "0x" + "22" * 20,
        "blockNumber": "0x1",
        "blockHash": "0x" + "33" * 32,
        "transactionHash": "0x" + "44" * 32,
        "logIndex": "0x0",
    }
    assert decode_log(log, contract="EscrowInstructionSender").spec.contract == "EscrowInstructionSender"
    assert decode_log(log, contract="EscrowInstructionHandler").spec.contract == "EscrowInstructionHandler"
    assert decode_log(log, contract="Escrow").spec.contract == "EscrowInstructionHandler"  # not Escrow's: first file
