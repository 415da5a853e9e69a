import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from escrow.models import Chain
from escrow.relayer.runner import Relayer
from fusionprime.errors import DomainError


class Command(BaseCommand):
    help = "Relays a block range of a chain with a progress bar (blocks/s, events/s); safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True)
        parser.add_argument("--from-block", type=int, required=True)
        parser.add_argument(
            "--to-block", type=int, default=None, help="Default: the head minus the confirmation depth."
        )

    def handle(self, *args, chain: str, from_block: int, to_block: int | None, **options):
        row = Chain.objects.filter(name=chain).first()
        if row is None:
            raise CommandError(f"No chain named '{chain}'.")
        if to_block is not None and to_block < from_block:
            raise CommandError("--to-block must not be below --from-block.")
        started = time.monotonic()
        bar = tqdm(total=None, unit="block", file=self.stderr._out, dynamic_ncols=True, mininterval=0.5)
        seen = {"blocks": 0}

        def progress(result):
            if bar.total is None and result.target is not None:
                bar.total = max(0, result.target - from_block + 1)
            bar.update(result.blocks - seen["blocks"])
            seen["blocks"] = result.blocks
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.set_postfix(
                blocks_s=f"{result.blocks / elapsed:.0f}",
                events_s=f"{result.events / elapsed:.0f}",
                events=result.events,
            )

        relayer = Relayer(row, progress=progress)
        try:
            result = relayer.tick(from_block=from_block, to_block=to_block, time_budget=float("inf"))
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{row.name}: {result.status} blocks {from_block}..{result.to_block}: {result.blocks} blocks, "
            f"{result.events} events in {elapsed:.1f}s ({result.blocks / elapsed:.0f} blocks/s, "
            f"{result.events / elapsed:.0f} events/s)"
        )
        if result.status != "ok":
            raise CommandError(result.error or result.status)
