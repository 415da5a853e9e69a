"""What the treasury group may do with the escrow app in admin (installed by a data migration)."""

TREASURY_ESCROW_PERMISSIONS = [
    ("escrow", "chain", ["view"]),
    ("escrow", "rpcprovider", ["view"]),
    ("escrow", "chaintoken", ["view"]),
    ("escrow", "escrow", ["view"]),
    ("escrow", "chainevent", ["view"]),
    ("escrow", "checkpoint", ["view"]),
    # change: to resolve flags with the admin action (the flag's content stays read-only).
    ("escrow", "treasuryflag", ["view", "change"]),
]


def install_treasury_escrow_permissions(Group, Permission) -> None:
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in TREASURY_ESCROW_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )
