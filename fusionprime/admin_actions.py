"""What the admins share: who acts, running a service per selected row, and read-only model admins."""

from collections.abc import Callable, Iterable

from django.contrib import admin, messages

from fusionprime.errors import DomainError


def admin_actor(request) -> str:
    """The actor recorded in the event log for a staff user's change."""
    return f"user:{request.user.get_username()}"


def run_each(modeladmin, request, ids: Iterable, action: Callable, label: str) -> int:
    """Calls `action(id)` for each id; a domain error is reported for its row and the rest go on."""
    done = 0
    for object_id in ids:
        try:
            action(object_id)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{object_id}: {exc.detail}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done}.", messages.SUCCESS)
    return done


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records changed only by services (logs, projections, audit trails): staff look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
