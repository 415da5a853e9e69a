"""The on-chain settlementRef of a settlement, and back.

settlementRef = bytes32 of the settlement id's ULID (16 bytes, left-padded with 16 zero bytes), so
the relayer maps a ref to a settlement without a lookup table and integrators can compute it too.
A ref whose upper 16 bytes are not zero was not issued by us.
"""

from ulid import ULID

PREFIX = "stl_"


def settlement_ref_for(settlement_id: str) -> str:
    ulid = ULID.from_str(settlement_id.removeprefix(PREFIX).upper())
    return "0x" + "00" * 16 + bytes(ulid).hex()


def settlement_id_from_ref(ref: str | bytes) -> str | None:
    raw = bytes.fromhex(ref.removeprefix("0x")) if isinstance(ref, str) else bytes(ref)
    if len(raw) != 32 or any(raw[:16]):
        return None
    return PREFIX + str(ULID.from_bytes(raw[16:])).lower()
