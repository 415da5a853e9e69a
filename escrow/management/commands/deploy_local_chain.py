import shutil
import signal
import subprocess

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from escrow.localchain import (
    CONTRACTS_DIR,
    CROSSCHAIN_SOURCE,
    Anvil,
    ChainDriver,
    CrossChainDriver,
    anvil_binary,
    artifact,
    foundry_binary,
)
from escrow.models import Chain, ContractKind
from escrow.services import chain_register, watched_contract_register


class Command(BaseCommand):
    help = (
        "Starts anvil (Foundry from contracts/node_modules), deploys the EscrowFactory and registers the chain "
        "'local' (31337). With --serve it keeps anvil running in the foreground (make run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rpc-url", help="Use this running node instead of starting anvil.")
        parser.add_argument("--port", type=int, default=settings.LOCAL_CHAIN_PORT)
        parser.add_argument(
            "--block-time", type=float, default=1.0, help="Seconds per block (confirmations need blocks)."
        )
        parser.add_argument("--serve", action="store_true", help="Keep anvil running until interrupted.")
        parser.add_argument("--confirmations", type=int, default=2)
        parser.add_argument(
            "--crosschain",
            action="store_true",
            help="Also deploy the Axelar doubles, the instruction sender and handler, and watch both.",
        )

    def _ensure_foundry(self) -> bool:
        if anvil_binary().exists():
            return True
        if shutil.which("npm") is None:
            return False
        self.stdout.write("Installing Foundry from npm (contracts/)…")
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CONTRACTS_DIR, check=False)  # noqa: S607
        return done.returncode == 0 and anvil_binary().exists()

    def handle(self, *args, rpc_url, port, block_time, serve, confirmations, crosschain, **options):
        node = None
        if rpc_url is None:
            if not self._ensure_foundry():
                message = (
                    "Local chain disabled: anvil is missing and npm is unavailable (install Node 20 and run "
                    "`cd contracts && npm ci`). Everything else runs without the chain."
                )
                if not serve:
                    raise CommandError(message)
                self.stderr.write(message)
                signal.sigwait([signal.SIGTERM, signal.SIGINT])  # honcho stops everything when one process exits
                return
            try:
                artifact("EscrowFactory", "EscrowFactory")
            except FileNotFoundError:
                subprocess.run([str(foundry_binary("forge")), "build"], cwd=CONTRACTS_DIR, check=True)  # noqa: S603
            state = settings.BASE_DIR / "var" / "anvil-state.json"
            state.parent.mkdir(parents=True, exist_ok=True)
            node = Anvil(port=port, block_time=block_time, state=state).start()
            if serve:
                # Blocked only now (anvil must not inherit the mask): sigwait below takes them, so
                # anvil is always stopped with us and dumps its state.
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
            rpc_url = node.url
        try:
            driver = ChainDriver(rpc_url)
            existing = Chain.objects.filter(name="local").first()
            if existing and driver.rpc("eth_getCode", existing.factory_address, "latest") not in ("0x", "0x0"):
                factory, block = existing.factory_address, existing.start_block  # the kept chain still has it
            else:
                factory, block = driver.deploy_factory()
            chain = chain_register(
                name="local",
                chain_id=int(driver.rpc("eth_chainId"), 16),
                factory_address=factory,
                start_block=block,
                confirmation_depth=confirmations,
                poll_interval_seconds=2,
                rpc_urls=[rpc_url],
                tokens={"native": "ETH"},
            )
            self.stdout.write(
                self.style.SUCCESS(f"local chain {chain.chain_id} at {rpc_url}: factory {factory} (block {block})")
            )
            if crosschain:
                self._deploy_crosschain(driver, chain)
            if serve and node is not None:
                signal.sigwait([signal.SIGTERM, signal.SIGINT])
        finally:
            if serve and node is not None:
                node.stop()
            elif node is not None:
                self.stdout.write(f"anvil keeps running (pid {node.proc.pid}); stop it with `kill {node.proc.pid}`.")

    def _deploy_crosschain(self, driver: ChainDriver, chain) -> None:
        watched = chain.watched_contracts.filter(kind=ContractKind.INSTRUCTION_HANDLER, enabled=True).first()
        if watched and driver.rpc("eth_getCode", watched.address, "latest") not in ("0x", "0x0"):
            self.stdout.write(f"cross-chain handler {watched.address} already deployed and watched")
            return
        cc = CrossChainDriver(driver).deploy()
        watched_contract_register(chain=chain, address=cc.handler, kind=ContractKind.INSTRUCTION_HANDLER, label="local")
        watched_contract_register(chain=chain, address=cc.sender, kind=ContractKind.INSTRUCTION_SENDER, label="local")
        self.stdout.write(
            self.style.SUCCESS(
                f"cross-chain: gateway double {cc.gateway}, sender {cc.sender}, handler {cc.handler} "
                f"(source '{CROSSCHAIN_SOURCE}' allowed); both watched"
            )
        )
