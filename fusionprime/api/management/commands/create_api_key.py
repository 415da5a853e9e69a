from django.core.management.base import BaseCommand, CommandError

from fusionprime.api.services import api_key_create
from fusionprime.errors import DomainError


class Command(BaseCommand):
    help = "Creates an API key and prints it (once) on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", required=True, help="Comma-separated, e.g. settlements:read,settlements:write")

    def handle(self, *args, name: str, scopes: str, **options):
        try:
            created = api_key_create(name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stderr.write(f"Created {created.api_key.id} with scopes {','.join(created.api_key.scopes)}.")
        self.stderr.write("Store the key now: it cannot be shown again.")
        self.stdout.write(created.raw_key)
