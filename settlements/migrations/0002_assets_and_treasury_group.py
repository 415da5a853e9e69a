from django.db import migrations

from settlements.reference_data import install_reference_data


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    install_reference_data(
        apps.get_model("settlements", "Asset"), apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
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
