"""The "ops" group: runs webhooks in admin. Installed by a data migration (treasury gets no webhook rights)."""

OPS_GROUP = "ops"
OPS_PERMISSIONS = [
    ("webhooks", "webhookendpoint", ["view", "add", "change", "delete"]),
    ("webhooks", "webhookdelivery", ["view", "change"]),
    ("webhooks", "webhookattempt", ["view"]),
]


def install_ops_group(Group, Permission) -> None:
    group, _ = Group.objects.get_or_create(name=OPS_GROUP)
    for app_label, model, actions in OPS_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )
