import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from fusionprime.api.services import api_key_create
from settlements import services
from settlements.models import Rail, Settlement

DEMO = [
    ("DEMO-0001", "acme-treasury", "globex-ap", "1250.50", "USD", None, []),
    ("DEMO-0002", "acme-treasury", "initech-ar", "98000.00", "EUR", None, ["funded"]),
    ("DEMO-0003", "globex-ap", "acme-treasury", "5000.000000", "USDC", 31337, ["funded", "settled"]),
    ("DEMO-0004", "umbrella-fx", "acme-treasury", "0.75", "ETH", 31337, ["cancelled"]),
    ("DEMO-0005", "initech-ar", "umbrella-fx", "42.00", "GBP", None, ["funded", "refunded"]),
]
TRANSITIONS = {
    "funded": services.settlement_mark_funded,
    "settled": services.settlement_mark_settled,
    "cancelled": services.settlement_cancel,
    "refunded": services.settlement_refund,
}


class Command(BaseCommand):
    help = "Seeds demo settlements, a treasury staff login and an API key, and prints the credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="treasury")

    @transaction.atomic
    def handle(self, *args, username: str, **options):
        actor = "system:seed_demo"
        for reference, payer, payee, amount, asset, chain_id, steps in DEMO:
            if Settlement.objects.filter(reference=reference).exists():
                continue
            settlement = services.settlement_create(
                reference=reference,
                payer_reference=payer,
                payee_reference=payee,
                amount=amount,
                asset=asset,
                rail=Rail.ESCROW if chain_id else Rail.OFFCHAIN,
                chain_id=chain_id,
                actor=actor,
            )
            for step in steps:
                TRANSITIONS[step](settlement_id=settlement.id, actor=actor, reason="demo data")

        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name="treasury"))
        key = api_key_create(name="demo", scopes=["settlements:read", "settlements:write", "webhooks:write"])
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Fusion Prime is seeded.\n"
                f"  Admin:   http://127.0.0.1:8000/admin/  user '{username}'  password '{password}'\n"
                f"  API key: {key.raw_key}\n"
                "  API docs: http://127.0.0.1:8000/v1/docs\n"
            )
        )
