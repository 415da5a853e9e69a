import time

from django.core.management.base import BaseCommand

from fusionprime.events.services import events_publish_pending


class Command(BaseCommand):
    help = "Publishes unpublished events (the same sweep Celery beat runs), in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One sweep, then exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between sweeps.")

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            result = events_publish_pending()
            self.stdout.write(f"published={result.published} failed={result.failed}")
            if once:
                return
            time.sleep(interval)
