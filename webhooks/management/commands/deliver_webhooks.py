import time

from django.core.management.base import BaseCommand

from webhooks.services import deliveries_process_due, endpoints_check_health


class Command(BaseCommand):
    help = "Runs the webhook delivery sweep in the foreground (the same one Celery beat triggers)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One sweep, then exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between sweeps (default 2).")

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            result = deliveries_process_due()
            health = endpoints_check_health()
            if once or result.claimed or health["disabled"]:
                self.stdout.write(
                    f"claimed={result.claimed} succeeded={result.succeeded} retrying={result.retrying} "
                    f"failed={result.failed} held={result.held} disabled={health['disabled']}"
                )
            if once:
                return
            time.sleep(interval)
