from django.db import migrations

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


def seed(apps, schema_editor):
    Asset = apps.get_model("settlements", "Asset")
    for code, name, decimals in ASSETS:
        Asset.objects.get_or_create(code=code, defaults={"name": name, "decimals": decimals})

    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in TREASURY_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )


def unseed(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="treasury").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("settlements", "0001_initial"),
        ("events", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
