"""What treasury may do in the risk app: manage exposure limits and read their history.

Installed by a data migration; re-installable after a test flush.
"""

TREASURY_RISK_PERMISSIONS = [
    ("risk", "exposurelimit", ["view", "add", "change", "delete"]),
    ("risk", "exposurelimitchange", ["view"]),
]


def install_treasury_risk_permissions(Group, Permission) -> None:
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in TREASURY_RISK_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )
