"""Reference data every installation has: the asset registry and the treasury group.

Installed by a data migration; also re-installable after a test flush.
"""

ASSETS = [
    ("USD", "US dollar", 2),
    ("EUR", "Euro", 2),
    ("GBP", "Pound sterling", 2),
    ("USDC", "USD Coin", 6),
    ("USDT", "Tether USD", 6),
    ("ETH", "Ether", 18),
    ("POL", "Polygon", 18),
]

# Treasury works settlements and reads the event log; it never edits assets or API keys.
TREASURY_PERMISSIONS = [
    ("settlements", "settlement", ["view", "change"]),
    ("settlements", "asset", ["view"]),
    ("events", "event", ["view"]),
]


def install_reference_data(Asset, Group, Permission, extra_permissions=()) -> None:
    for code, name, decimals in ASSETS:
        Asset.objects.get_or_create(code=code, defaults={"name": name, "decimals": decimals})
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in [*TREASURY_PERMISSIONS, *extra_permissions]:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )
