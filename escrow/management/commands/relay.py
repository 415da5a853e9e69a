import signal
import time

from django.core.management.base import BaseCommand, CommandError

from escrow.models import Chain
from escrow.relayer.runner import Relayer


class Command(BaseCommand):
    help = "Runs the relayer for one chain in the foreground (every poll interval, or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="Chain name, e.g. sepolia, amoy, local.")
        parser.add_argument("--once", action="store_true", help="One tick, then exit (non-zero on error).")
        parser.add_argument("--wait", action="store_true", help="Wait for the chain to be registered (make run).")

    def handle(self, *args, chain: str, once: bool, wait: bool, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
        row = Chain.objects.filter(name=chain).first()
        while row is None and wait and not stopping:
            time.sleep(2)
            row = Chain.objects.filter(name=chain).first()
        if row is None:
            raise CommandError(
                f"No chain named '{chain}'. Known: {', '.join(Chain.objects.values_list('name', flat=True)) or 'none'}."
            )
        relayer = Relayer(row)
        while not stopping:
            result = relayer.tick(from_block=None)
            line = (
                f"{row.name}: {result.status} head={result.head} target={result.target} "
                f"blocks={result.blocks} events={result.events} reorgs={result.reorgs}"
            )
            self.stdout.write(line + (f" error={result.error}" if result.error else ""))
            if once:
                if result.status == "error":
                    raise CommandError(result.error)
                return
            row.refresh_from_db()
            time.sleep(row.poll_interval_seconds)
