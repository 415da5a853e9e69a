from django.db import migrations

from escrow.permissions import TREASURY_CROSSCHAIN_PERMISSIONS


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in TREASURY_CROSSCHAIN_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )


def unseed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="treasury").first()
    if group:
        models = [model for _, model, _ in TREASURY_CROSSCHAIN_PERMISSIONS]
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="escrow", content_type__model__in=models))


class Migration(migrations.Migration):
    dependencies = [
        ("escrow", "0003_crosschain_instructions"),
        ("escrow", "0002_treasury_permissions"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
