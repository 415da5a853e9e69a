"""What the treasury group may do with the escrow app in admin (installed by data migrations)."""

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

# Models added by 0003; migration 0002 runs before they exist, 0004 installs these.
TREASURY_CROSSCHAIN_PERMISSIONS = [
    ("escrow", "watchedcontract", ["view"]),
    ("escrow", "crosschaininstruction", ["view"]),
]


def install_treasury_escrow_permissions(Group, Permission) -> None:
    group, _ = Group.objects.get_or_create(name="treasury")
    for app_label, model, actions in TREASURY_ESCROW_PERMISSIONS + TREASURY_CROSSCHAIN_PERMISSIONS:
        for action in actions:
            lookup = {"content_type__app_label": app_label, "codename": f"{action}_{model}"}
            if (app_label, model, actions) in TREASURY_CROSSCHAIN_PERMISSIONS:
                permission = Permission.objects.filter(**lookup).first()
                if permission is None:  # migration 0002's historical state: 0004 adds it
                    continue
            else:
                permission = Permission.objects.get(**lookup)
            group.permissions.add(permission)
