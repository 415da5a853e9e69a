"""A local chain for `make run`, tests and benchmarks: anvil from Foundry's npm package, the factory
deployed from `contracts/out`, and a small driver that sends escrow transactions from anvil's
unlocked dev accounts (no private keys involved).
"""

import json
import os
import platform
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from fusionprime.env import BASE_DIR

CONTRACTS_DIR = BASE_DIR / "contracts"
ZERO = "0x" + "00" * 20
PARAMS_TYPE = "(address,address,address,bytes32,uint40,uint40,uint8,address[])"


def foundry_binary(tool: str) -> Path:
    """The platform binary itself: the npm launchers always exit 0 and hide the real pid."""
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), ""
    )
    return CONTRACTS_DIR / "node_modules" / "@foundry-rs" / f"{tool}-linux-{arch}" / "bin" / tool


def anvil_binary() -> Path:
    return foundry_binary("anvil")


def artifact(file: str, contract: str) -> dict:
    path = CONTRACTS_DIR / "out" / f"{file}.sol" / f"{contract}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the contracts first (`bash contracts/ci.sh`).")
    return json.loads(path.read_text())


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


class Anvil:
    """One anvil process on a loopback port, stopped by its own pid."""

    def __init__(
        self,
        *,
        port: int = 0,
        chain_id: int = 31337,
        block_time: float | None = None,
        accounts: int = 20,
        state: Path | None = None,
    ):
        self.state = state
        self.requested_port = port
        self.chain_id = chain_id
        self.block_time = block_time
        self.accounts = accounts
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 20.0) -> "Anvil":
        binary = anvil_binary()
        if not binary.exists():
            raise FileNotFoundError(f"anvil is missing at {binary}: run `cd contracts && npm ci` (Node 20+).")
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.requested_port),
            "--chain-id",
            str(self.chain_id),
            "--accounts",
            str(self.accounts),
            "--silent",
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        if self.state:
            args += ["--state", str(self.state)]  # loaded at start, dumped at exit: make run keeps its chain
        # --silent hides the banner, so anvil's port is found from its own listening socket instead.
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # noqa: S603 - our own binary
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"anvil exited with {self.proc.returncode}: {self.proc.stderr.read().decode()[-2000:]}"
                )
            self.port = self.requested_port or _listening_port(self.proc.pid)
            if self.port:
                try:
                    requests.post(
                        self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1
                    )
                    return self
                except requests.exceptions.RequestException:
                    pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError("anvil did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _listening_port(pid: int) -> int | None:
    """The TCP port a process listens on, read from /proc (Linux)."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            match = re.match(r"socket:\[(\d+)\]", link)
            if match:
                inodes.add(match.group(1))
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in inodes:  # 0A = LISTEN
                    return int(parts[1].split(":")[1], 16)
    except OSError:
        return None
    return None


class RpcFailed(Exception):
    pass


class ChainDriver:
    """Sends escrow transactions to a dev node (anvil) from its unlocked accounts."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self._id = 0
        self.accounts: list[str] = [a.lower() for a in self.rpc("eth_accounts")]
        self.factory: str | None = None
        self.factory_block = 0

    # -------------------------------------------------------------- JSON-RPC
    def rpc(self, method: str, *params):
        self._id += 1
        reply = self.session.post(
            self.url, json={"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}, timeout=60
        ).json()
        if "error" in reply:
            raise RpcFailed(f"{method}: {reply['error']}")
        return reply["result"]

    def batch(self, calls: list[tuple[str, list]]) -> list:
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        replies = sorted(self.session.post(self.url, json=body, timeout=120).json(), key=lambda r: r["id"])
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise RpcFailed(f"{len(errors)} of {len(calls)} calls failed, first: {errors[0]}")
        return [r["result"] for r in replies]

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def block(self, number: int | str = "latest") -> dict:
        return self.rpc("eth_getBlockByNumber", hex(number) if isinstance(number, int) else number, False)

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", hex(seconds))

    def set_automine(self, on: bool) -> None:
        self.rpc("evm_setAutomine", on)

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        self.rpc("evm_revert", snapshot_id)

    def reorg(self, depth: int) -> None:
        """Replaces the last `depth` blocks with new (empty) ones; their transactions are gone."""
        self.rpc("anvil_reorg", depth, [])

    def now(self) -> int:
        return int(self.block()["timestamp"], 16)

    def receipt(self, tx_hash: str, *, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        while receipt is None and time.monotonic() < deadline:  # automine runs just after the reply
            time.sleep(0.01)
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        if receipt is None or receipt["status"] != "0x1":
            raise RpcFailed(f"transaction {tx_hash} failed or is not mined: {receipt}")
        return receipt

    def get_logs(self, addresses: list[str] | None, start: int, end: int) -> list[dict]:
        params = {"fromBlock": hex(start), "toBlock": hex(end)}
        if addresses is not None:
            params["address"] = addresses
        return self.rpc("eth_getLogs", params)

    # -------------------------------------------------------------- contracts
    def deploy(self, bytecode: str, *, sender: str | None = None, args: bytes = b"") -> str:
        tx = self.rpc(
            "eth_sendTransaction",
            {"from": sender or self.accounts[0], "data": bytecode + args.hex(), "gas": hex(6_000_000)},
        )
        self._mine_if_manual()
        return self.receipt(tx)["contractAddress"].lower()

    def deploy_factory(self) -> tuple[str, int]:
        bytecode = artifact("EscrowFactory", "EscrowFactory")["bytecode"]["object"]
        tx = self.rpc("eth_sendTransaction", {"from": self.accounts[0], "data": bytecode, "gas": hex(8_000_000)})
        self._mine_if_manual()
        receipt = self.receipt(tx)
        self.factory = receipt["contractAddress"].lower()
        self.factory_block = int(receipt["blockNumber"], 16)
        return self.factory, self.factory_block

    def deploy_token(self, *, name: str = "USD Coin", symbol: str = "USDC", decimals: int = 6) -> str:
        bytecode = artifact("Mocks", "MockERC20")["bytecode"]["object"]
        return self.deploy(bytecode, args=abi_encode(["string", "string", "uint8"], [name, symbol, decimals]))

    def _mine_if_manual(self) -> None:
        if not self.rpc("anvil_getAutomine"):
            self.mine()

    def escrow_params(
        self, *, payee, settlement_ref: str, approvers, threshold, release_time, deadline, token=ZERO, arbiter=ZERO
    ):
        ref = bytes.fromhex(settlement_ref.removeprefix("0x")).rjust(32, b"\0")
        return (payee, token, arbiter, ref, release_time, deadline, threshold, list(approvers))

    def predict(self, payer: str, params) -> str:
        data = selector(f"predictAddress(address,{PARAMS_TYPE})") + abi_encode(
            ["address", PARAMS_TYPE], [payer, params]
        )
        out = self.rpc("eth_call", {"to": self.factory, "data": "0x" + data.hex()}, "latest")
        return "0x" + out[-40:].lower()

    def create_escrow_tx(self, *, payer: str, params, amount: int) -> dict:
        data = selector(f"createEscrow({PARAMS_TYPE},uint256)") + abi_encode([PARAMS_TYPE, "uint256"], [params, amount])
        value = amount if params[1] == ZERO else 0
        return {"from": payer, "to": self.factory, "data": "0x" + data.hex(), "value": hex(value), "gas": hex(600_000)}

    def create_escrow(self, *, payer: str, amount: int, **kwargs) -> tuple[str, str]:
        """Creates and funds an escrow; returns (escrow address, tx hash)."""
        params = self.escrow_params(**kwargs)
        address = self.predict(payer, params)
        tx = self.rpc("eth_sendTransaction", self.create_escrow_tx(payer=payer, params=params, amount=amount))
        return address, tx

    @staticmethod
    def call_tx(escrow: str, sender: str, signature: str, types=(), values=(), gas: int = 300_000) -> dict:
        data = selector(signature) + (abi_encode(list(types), list(values)) if types else b"")
        return {"from": sender, "to": escrow, "data": "0x" + data.hex(), "gas": hex(gas)}

    def send(self, tx: dict) -> str:
        return self.rpc("eth_sendTransaction", tx)

    def send_many(self, txs: list[dict]) -> list[str]:
        return self.batch([("eth_sendTransaction", [tx]) for tx in txs])

    def approve(self, escrow: str, approver: str) -> str:
        return self.send(self.call_tx(escrow, approver, "approve()"))

    def revoke_approval(self, escrow: str, approver: str) -> str:
        return self.send(self.call_tx(escrow, approver, "revokeApproval()"))

    def release(self, escrow: str, sender: str) -> str:
        return self.send(self.call_tx(escrow, sender, "release()"))

    def refund(self, escrow: str, sender: str) -> str:
        return self.send(self.call_tx(escrow, sender, "refund()"))

    def approve_emergency_refund(self, escrow: str, approver: str) -> str:
        return self.send(self.call_tx(escrow, approver, "approveEmergencyRefund()"))

    def emergency_refund(self, escrow: str, sender: str) -> str:
        return self.send(self.call_tx(escrow, sender, "emergencyRefund()"))

    def arbiter_decide(self, escrow: str, arbiter: str, release: bool) -> str:
        return self.send(self.call_tx(escrow, arbiter, "arbiterDecide(bool)", ["bool"], [release]))

    def erc20_mint_and_approve(self, token: str, holder: str, amount: int) -> None:
        self.send(
            self.call_tx(token, holder, "mint(address,uint256)", ["address", "uint256"], [holder, amount], gas=200_000)
        )
        self.send(
            self.call_tx(
                token, holder, "approve(address,uint256)", ["address", "uint256"], [self.factory, amount], gas=200_000
            )
        )

    def escrow_status(self, escrow: str) -> int:
        out = self.rpc("eth_call", {"to": escrow, "data": "0x" + selector("status()").hex()}, "latest")
        return abi_decode(["uint8"], bytes.fromhex(out[2:]))[0]


def escrow_wave(
    driver: ChainDriver,
    *,
    count: int,
    rng,
    refs: list[str] | None = None,
    amount: int = 10**15,
    settle_ratio: float = 0.8,
) -> list[str]:
    """Creates `count` funded ETH escrows in one block, approves them (2 of 3) in the next and
    releases most of them (or refunds by emergency vote) in the blocks after. About 5 events each.
    Returns the escrow addresses."""
    accounts = driver.accounts
    payers, approvers = accounts[1:8], accounts[8:14]
    payee = accounts[14 % len(accounts)]
    deadline = driver.now() + 30 * 86400
    plans = []
    for i in range(count):
        ref = (refs[i] if refs and i < len(refs) else None) or "0x" + rng.randbytes(32).hex()
        chosen = rng.sample(approvers, 3)
        params = driver.escrow_params(
            payee=payee, settlement_ref=ref, approvers=chosen, threshold=2, release_time=0, deadline=deadline
        )
        plans.append((rng.choice(payers), params, chosen))
    data = selector(f"predictAddress(address,{PARAMS_TYPE})")
    calls = [
        (
            "eth_call",
            [
                {"to": driver.factory, "data": "0x" + (data + abi_encode(["address", PARAMS_TYPE], [p, params])).hex()},
                "latest",
            ],
        )
        for p, params, _ in plans
    ]
    addresses = ["0x" + out[-40:].lower() for out in driver.batch(calls)]
    driver.set_automine(False)
    try:
        driver.send_many([driver.create_escrow_tx(payer=p, params=params, amount=amount) for p, params, _ in plans])
        driver.mine()
        fates = [rng.random() < settle_ratio for _ in plans]
        votes = []
        for address, (_, _, chosen), release in zip(addresses, plans, fates, strict=True):
            signature = "approve()" if release else "approveEmergencyRefund()"
            votes += [driver.call_tx(address, a, signature) for a in chosen[:2]]
        driver.send_many(votes)
        driver.mine()
        finals = [
            driver.call_tx(address, payee if release else plan[0], "release()" if release else "emergencyRefund()")
            for address, plan, release in zip(addresses, plans, fates, strict=True)
        ]
        driver.send_many(finals)
        driver.mine()
    finally:
        driver.set_automine(True)
    return addresses


# ------------------------------------------------------------------ cross-chain instructions (Axelar GMP)

CROSSCHAIN_SOURCE = "local-source"  # the names DeployLocalCrossChain uses
CROSSCHAIN_DESTINATION = "local-escrow"
PAYLOAD_TYPES = ["uint8", "uint64", "uint8", "address"]  # version, nonce, kind, escrow


@dataclass(frozen=True)
class CrossChain:
    """Axelar gateway and gas-service doubles, the sender and the handler, all on one dev chain."""

    gateway: str
    gas_service: str
    sender: str
    handler: str
    owner: str
    block: int


class CrossChainDriver:
    """Sends instructions through the sender and delivers them to the handler, as Axelar would."""

    def __init__(self, driver: ChainDriver):
        self.driver = driver
        self._commands = 0

    def deploy(self, *, owner: str | None = None) -> CrossChain:
        d = self.driver
        owner = owner or d.accounts[0]
        first = d.block_number() + 1
        gateway = d.deploy(artifact("AxelarDoubles", "AxelarGatewayDouble")["bytecode"]["object"])  # operator: us
        gas_service = d.deploy(artifact("AxelarDoubles", "AxelarGasServiceDouble")["bytecode"]["object"])
        sender = d.deploy(
            artifact("EscrowInstructionSender", "EscrowInstructionSender")["bytecode"]["object"],
            args=abi_encode(["address", "address", "address"], [gateway, gas_service, owner]),
        )
        handler = d.deploy(
            artifact("EscrowInstructionHandler", "EscrowInstructionHandler")["bytecode"]["object"],
            args=abi_encode(["address", "address"], [gateway, owner]),
        )
        self.cc = CrossChain(gateway, gas_service, sender, handler, owner, first)
        self.allow_source(CROSSCHAIN_SOURCE, sender, True)
        return self.cc

    def allow_source(self, source_chain: str, source_address: str, allowed: bool) -> None:
        types, values = ["string", "address", "bool"], [source_chain, source_address, allowed]
        tx = ChainDriver.call_tx(self.cc.handler, self.cc.owner, "setSource(string,address,bool)", types, values)
        self.driver.receipt(self.driver.send(tx))

    def source_key(self, source_chain: str = CROSSCHAIN_SOURCE, source_address: str | None = None) -> str:
        data = selector("sourceKeyOf(string,address)") + abi_encode(
            ["string", "address"], [source_chain, source_address or self.cc.sender]
        )
        return self.driver.rpc("eth_call", {"to": self.cc.handler, "data": "0x" + data.hex()}, "latest").lower()

    def send(self, escrow: str, kind: int, *, gas_paid: int = 10**15) -> bytes:
        """The treasury sends an instruction on the source side; returns the payload the gateway got."""
        tx = ChainDriver.call_tx(
            self.cc.sender,
            self.cc.owner,
            "send(string,address,address,uint8)",
            ["string", "address", "address", "uint8"],
            [CROSSCHAIN_DESTINATION, self.cc.handler, escrow, kind],
            gas=2_000_000,
        )
        tx["value"] = hex(gas_paid)
        self.driver.receipt(self.driver.send(tx))
        out = self.driver.rpc(
            "eth_call", {"to": self.cc.gateway, "data": "0x" + selector("lastCall()").hex()}, "latest"
        )
        ((_, _, _, payload),) = abi_decode(["(address,string,string,bytes)"], bytes.fromhex(out[2:]))
        return payload

    @staticmethod
    def payload(*, nonce: int, kind: int, escrow: str, version: int = 1) -> bytes:
        return abi_encode(PAYLOAD_TYPES, [version, nonce, kind, escrow])

    def deliver(
        self, payload: bytes, *, source_chain: str = CROSSCHAIN_SOURCE, source_address: str | None = None
    ) -> str:
        """Axelar's part: the gateway approves the call, then anyone executes it on the handler."""
        source_address = source_address or self.cc.sender
        self._commands += 1
        command_id = keccak(text=f"{self.cc.handler}:{self._commands}:{payload.hex()}")
        approve = ChainDriver.call_tx(
            self.cc.gateway,
            self.driver.accounts[0],
            "approveContractCall(bytes32,string,string,address,bytes32)",
            ["bytes32", "string", "string", "address", "bytes32"],
            [command_id, source_chain, source_address, self.cc.handler, keccak(payload)],
        )
        self.driver.receipt(self.driver.send(approve))
        execute = ChainDriver.call_tx(
            self.cc.handler,
            self.driver.accounts[0],
            "execute(bytes32,string,string,bytes)",
            ["bytes32", "string", "string", "bytes"],
            [command_id, source_chain, source_address, payload],
            gas=1_000_000,
        )
        tx = self.driver.send(execute)
        self.driver.receipt(tx)
        return tx

    def retry(self, nonce: int, *, sender: str | None = None) -> str:
        """Anyone may retry a failed (or now-in-turn deferred) message; reverts if it fails again."""
        tx = ChainDriver.call_tx(
            self.cc.handler,
            sender or self.driver.accounts[0],
            "retry(bytes32,uint64)",
            ["bytes32", "uint64"],
            [bytes.fromhex(self.source_key()[2:]), nonce],
            gas=1_000_000,
        )
        tx_hash = self.driver.send(tx)
        self.driver.receipt(tx_hash)
        return tx_hash
