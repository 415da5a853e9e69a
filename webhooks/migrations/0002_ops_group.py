from django.db import migrations

from webhooks.ops_group import OPS_GROUP, install_ops_group


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    install_ops_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def unseed(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=OPS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
