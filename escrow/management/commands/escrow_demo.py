import random
import signal
import time
from decimal import Decimal

from django.core.management.base import BaseCommand

from escrow.localchain import ChainDriver
from escrow.models import Chain
from escrow.refs import settlement_ref_for
from fusionprime.money import to_base_units
from settlements.services import settlement_create


class Command(BaseCommand):
    help = (
        "make run: every few seconds an escrow settlement is created, funded on the local chain, approved and released."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=10.0)
        parser.add_argument("--count", type=int, default=0, help="Stop after this many (0 = run until stopped).")

    def handle(self, *args, every: float, count: int, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
        chain = None
        while chain is None and not stopping:
            chain = Chain.objects.filter(name="local", enabled=True).first()
            if chain is None:
                time.sleep(2)
        if chain is None:
            return
        driver = ChainDriver(chain.providers.order_by("priority").first().url)
        driver.factory = chain.factory_address
        payer, payee, *approvers = driver.accounts[1:6]
        done = 0
        while not stopping and (count == 0 or done < count):
            amount = Decimal(random.randint(1, 500)) / 1000  # noqa: S311 - demo data
            settlement = settlement_create(
                reference=f"DEMO-ESC-{int(time.time() * 1000)}",
                payer_reference="acme-treasury",
                payee_reference="globex-ap",
                amount=f"{amount:f}",
                asset="ETH",
                rail="escrow",
                chain_id=chain.chain_id,
                actor="system:escrow_demo",
            )
            escrow, tx = driver.create_escrow(
                payer=payer,
                amount=to_base_units(amount, decimals=18),
                payee=payee,
                settlement_ref=settlement_ref_for(settlement.id),
                approvers=approvers,
                threshold=2,
                release_time=0,
                deadline=driver.now() + 86400,
            )
            driver.receipt(tx)
            for approver in approvers[:2]:
                driver.receipt(driver.approve(escrow, approver))
            driver.receipt(driver.release(escrow, payee))
            done += 1
            self.stdout.write(f"demo: settlement {settlement.id} → escrow {escrow} released on chain")
            time.sleep(every)
