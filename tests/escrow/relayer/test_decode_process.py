import logging
import os
import random
from types import SimpleNamespace

import pytest

from escrow.localchain import escrow_wave
from escrow.relayer import decoding
from escrow.relayer.decoding import DecodeProcess, decode_log
from tests.escrow.conftest import relay
from tests.escrow.support.compare import assert_recorded_equals_chain


@pytest.fixture
def process():
    decoder = DecodeProcess()
    decoder.start().result(timeout=60)
    yield decoder
    decoder.stop()


@pytest.fixture
def raw_logs(driver):
    escrow_wave(driver, count=8, rng=random.Random(11))
    logs = driver.get_logs(None, driver.factory_block, driver.block_number())
    assert len(logs) > 30
    return logs


def _submissions(decoder: DecodeProcess) -> list:
    """Records what is sent to the decode process (and still sends it)."""
    sent = []
    submit = decoder._executor.submit

    def recording(fn, *args):
        sent.append(fn.__name__)
        return submit(fn, *args)

    decoder._executor.submit = recording
    return sent


def test_a_batch_decoded_in_the_process_equals_decoding_here(process, raw_logs):
    # given real logs of the factory and its escrows, one of them from an address of a known ABI
    items = [(log, "Escrow" if i % 2 else None) for i, log in enumerate(raw_logs)]
    sent = _submissions(process)

    # when the batch goes to the decode process
    decoded = process.decode(items, min_logs=10)

    # then it was decoded there, and every log reads as decoding here reads it, in order
    assert sent == ["_decode_rows"]
    assert decoded == [decode_log(log, contract=contract) for log, contract in items]
    assert {d.spec.name for d in decoded if d} >= {"EscrowCreated", "Deposited", "Approved"}
    assert decoded[0].spec is decoding.contract_event_table()[("EscrowFactory", decoded[0].spec.topic0)]


def test_small_batches_and_a_process_not_started_yet_are_decoded_here(process, raw_logs):
    items = [(log, None) for log in raw_logs]
    sent = _submissions(process)
    assert process.decode(items, min_logs=len(items) + 1) == [decode_log(log) for log in raw_logs]
    assert sent == []
    assert DecodeProcess().decode(items, min_logs=1) == [decode_log(log) for log in raw_logs]


def test_a_process_that_died_is_dropped_and_the_batch_decoded_here(process, raw_logs, caplog):
    # given a decode process that exits
    with pytest.raises(Exception):  # noqa: B017 - the pool reports the exit as BrokenProcessPool
        process._executor.submit(os._exit, 1).result(timeout=30)
    items = [(log, None) for log in raw_logs]

    # when a batch is decoded
    with caplog.at_level(logging.WARNING, logger="escrow.relayer.decoding"):
        decoded = process.decode(items, min_logs=1)

    # then nothing is lost, the failure is logged, and the process is no longer used
    assert decoded == [decode_log(log) for log in raw_logs]
    assert "relayer.decode_process_died" in caplog.messages
    assert not process.ready


def test_a_malformed_log_raises_as_it_would_here(process):
    log = {
        "address": "0x" + "11" * 20,
        "topics": [decoding.topic_of("Escrow", "Approved"), "0x" + "00" * 32],
        "data": "0x01",
        "blockNumber": "0x1",
        "blockHash": "0x" + "22" * 32,
        "transactionHash": "0x" + "33" * 32,
        "logIndex": "0x0",
    }
    with pytest.raises(Exception) as here:
        decode_log(log)
    with pytest.raises(type(here.value)):
        process.decode([(log, None)], min_logs=1)
    assert process.ready  # a bad log is not a broken process


def test_a_daemonic_process_decodes_everything_itself(monkeypatch):
    monkeypatch.setattr(decoding.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    decoder = DecodeProcess()
    assert decoder.start() is None and not decoder.ready


def test_the_relayer_records_the_chain_exactly_with_every_range_decoded_in_the_process(settings, chain, driver):
    # given ranges decoded in the process whatever their size
    settings.RELAYER_DECODE_PROCESS_MIN_LOGS = 1
    settings.RELAYER_INITIAL_BLOCK_RANGE = 3
    decoding.decode_process.start().result(timeout=60)
    sent = _submissions(decoding.decode_process)
    for seed in range(3):
        escrow_wave(driver, count=5, rng=random.Random(seed))
        driver.mine(2)

    # when the relayer catches up
    result = relay(chain)

    # then the process decoded the ranges and the recorded events are exactly the chain's
    assert result.status == "ok", result.error
    assert sent and set(sent) == {"_decode_rows"}
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)
