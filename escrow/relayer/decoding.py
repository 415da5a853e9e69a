"""Table-driven log decoding: every event of every ABI in escrow/abi/ by its topic0.

Adding a contract's ABI file is enough for the relayer to decode (and record) its events. When the
emitting contract's kind is known (watched contracts), its own ABI decides first: several ABIs share
events such as OpenZeppelin's OwnershipTransferred, and the first file by name must not name them all.
"""

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_utils import keccak

ABI_DIR = Path(__file__).resolve().parents[1] / "abi"


def _type_str(param: dict) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_str(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


@dataclass(frozen=True)
class EventSpec:
    contract: str
    name: str
    topic0: str
    indexed: tuple[tuple[str, str], ...]  # (name, type)
    data: tuple[tuple[str, str], ...]
    order: tuple[str, ...]

    @cached_property  # asked once per recorded log
    def snake_name(self) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in self.name).lstrip("_")


@dataclass(frozen=True)
class DecodedLog:
    spec: EventSpec
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    args: dict  # JSON-safe: integers as strings, bytes as 0x-hex, addresses lower-case

    @property
    def seq(self) -> int | None:
        value = self.args.get("seq")
        return int(value) if value is not None else None


def _json_safe(value, typ: str):
    if typ.endswith("]"):
        inner = typ[: typ.rindex("[")]
        return [_json_safe(v, inner) for v in value]
    if typ == "address":
        return value.lower()
    if typ.startswith(("uint", "int")):
        return str(value)
    if typ.startswith("bytes"):
        return "0x" + bytes(value).hex()
    return value


@cache
def contract_event_table() -> dict[tuple[str, str], EventSpec]:
    """(contract, topic0) → spec, for every event of every ABI file (the file's stem is the contract)."""
    table: dict[tuple[str, str], EventSpec] = {}
    for path in sorted(ABI_DIR.glob("*.json")):
        abi = json.loads(path.read_text())
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            types = [_type_str(p) for p in item["inputs"]]
            signature = f"{item['name']}({','.join(types)})"
            topic0 = "0x" + keccak(text=signature).hex()
            inputs = list(zip(item["inputs"], types, strict=True))
            table[(path.stem, topic0)] = EventSpec(
                contract=path.stem,
                name=item["name"],
                topic0=topic0,
                indexed=tuple((p["name"], t) for p, t in inputs if p.get("indexed")),
                data=tuple((p["name"], t) for p, t in inputs if not p.get("indexed")),
                order=tuple(p["name"] for p in item["inputs"]),
            )
    return table


@cache
def event_table() -> dict[str, EventSpec]:
    """topic0 → spec; an event several ABIs share is named after the first file by name."""
    table: dict[str, EventSpec] = {}
    for (_, topic0), spec in contract_event_table().items():
        table.setdefault(topic0, spec)
    return table


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    types: tuple[str, ...]


@cache
def error_table() -> dict[str, ErrorSpec]:
    """4-byte selector (0x-hex) → custom error, from every ABI file."""
    table: dict[str, ErrorSpec] = {}
    for path in sorted(ABI_DIR.glob("*.json")):
        for item in json.loads(path.read_text()):
            if item.get("type") != "error":
                continue
            types = tuple(_type_str(p) for p in item["inputs"])
            selector = "0x" + keccak(text=f"{item['name']}({','.join(types)})")[:4].hex()
            table.setdefault(selector, ErrorSpec(item["name"], types))
    return table


_ERROR_STRING = "0x08c379a0"  # Error(string)
_PANIC = "0x4e487b71"  # Panic(uint256)


def decode_revert(data: str) -> str:
    """Revert data as a reader sees it: `ReleaseTimelockActive(1767225600)`, a reason string, or the hex."""
    data = (data or "0x").lower()
    if len(data) < 10:
        return "reverted without a reason" if data == "0x" else data
    selector, body = data[:10], bytes.fromhex(data[10:])
    try:
        if selector == _ERROR_STRING:
            return abi_decode(["string"], body)[0]
        if selector == _PANIC:
            return f"Panic({abi_decode(['uint256'], body)[0]:#x})"
        spec = error_table().get(selector)
        if spec is not None:
            values = abi_decode(list(spec.types), body) if spec.types else ()
            return f"{spec.name}({', '.join(str(_json_safe(v, t)) for v, t in zip(values, spec.types, strict=True))})"
    except Exception:  # noqa: BLE001 - malformed revert data is shown raw, never raised
        return data
    return data


def topic_of(contract: str, name: str) -> str:
    for spec in contract_event_table().values():
        if spec.contract == contract and spec.name == name:
            return spec.topic0
    raise KeyError(f"{contract}.{name}")


def _hex(value) -> str:
    if isinstance(value, str):
        return value.lower()
    return "0x" + bytes(value).hex()


def decode_log(log: dict, *, contract: str | None = None) -> DecodedLog | None:
    """Decodes a raw JSON-RPC log; None when no known ABI has its topic0.

    `contract` is the ABI of the emitting address when known: its event wins over another file's."""
    topics = [_hex(t) for t in log["topics"]]
    if not topics:
        return None
    spec = contract_event_table().get((contract, topics[0])) if contract else None
    spec = spec or event_table().get(topics[0])
    if spec is None or len(topics) != len(spec.indexed) + 1:
        return None
    args: dict = {}
    for (name, typ), topic in zip(spec.indexed, topics[1:], strict=True):
        if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
            args[name] = topic  # dynamic indexed values are only their hash
        else:
            (value,) = abi_decode([typ], bytes.fromhex(topic[2:]))
            args[name] = _json_safe(value, typ)
    data = log["data"]
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    values = abi_decode([t for _, t in spec.data], raw) if spec.data else ()
    for (name, typ), value in zip(spec.data, values, strict=True):
        args[name] = _json_safe(value, typ)
    return DecodedLog(
        spec=spec,
        address=_hex(log["address"]),
        block_number=_int(log["blockNumber"]),
        block_hash=_hex(log["blockHash"]),
        tx_hash=_hex(log["transactionHash"]),
        log_index=_int(log["logIndex"]),
        args={name: args[name] for name in spec.order},
    )


def _int(value) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
