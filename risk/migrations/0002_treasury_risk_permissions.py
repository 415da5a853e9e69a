from django.db import migrations

from risk.reference_data import install_treasury_risk_permissions


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    install_treasury_risk_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def unseed(apps, schema_editor):
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="treasury").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="risk"))


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("settlements", "0002_assets_and_treasury_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
