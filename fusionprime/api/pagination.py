"""Stripe-style cursor lists: `limit` and `starting_after`, envelope with `has_more`."""

from django.db.models import QuerySet

from fusionprime.errors import ValidationError
from fusionprime.ids import is_id

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_LIMIT}.", param="limit", code="invalid_limit")
    return int(raw)


def cursor_page(queryset: QuerySet, *, prefix: str, limit_raw: str | None, starting_after: str | None):
    """Newest first by id (ids are ULIDs, so this is creation order and unique)."""
    limit = parse_limit(limit_raw)
    if starting_after:
        if not is_id(starting_after, prefix):
            raise ValidationError(
                f"starting_after must be an id like {prefix}_…", param="starting_after", code="invalid_cursor"
            )
        queryset = queryset.filter(pk__lt=starting_after)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def list_envelope(data: list, *, has_more: bool, url: str) -> dict:
    return {"object": "list", "url": url, "has_more": has_more, "data": data}
