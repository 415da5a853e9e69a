import time

import django_filters
from django.db.models import QuerySet

from fusionprime.api.pagination import cursor_page
from fusionprime.errors import NotFound, ValidationError
from fusionprime.events.models import Event
from settlements.models import Asset, Settlement, SettlementStatus


class SettlementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SettlementStatus.choices)
    asset = django_filters.CharFilter(field_name="asset_id")
    reference = django_filters.CharFilter()
    created_gte = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_lte = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Settlement
        fields = ["status", "asset", "reference", "created_gte", "created_lte"]


LIST_PARAMS = frozenset({"limit", "starting_after", *SettlementFilter.base_filters})


_asset_cache: dict[str, tuple[float, Asset | None]] = {}
ASSET_CACHE_SECONDS = 30.0


def asset_get(*, code: str) -> Asset | None:
    """The registry changes rarely and decimals never (admin refuses it): a short per-process cache."""
    now = time.monotonic()
    hit = _asset_cache.get(code)
    if hit is None or now - hit[0] > ASSET_CACHE_SECONDS:
        hit = (now, Asset.objects.filter(code=code).first())
        _asset_cache[code] = hit
    return hit[1]


def settlement_get(*, settlement_id: str) -> Settlement:
    settlement = Settlement.objects.select_related("asset").filter(pk=settlement_id).first()
    if settlement is None:
        raise NotFound(f"No settlement '{settlement_id}'.", param="id", code="settlement_not_found")
    return settlement


def settlement_list(*, params) -> tuple[list[Settlement], bool]:
    unknown = sorted(set(params) - LIST_PARAMS)
    if unknown:
        raise ValidationError(f"Unknown query parameter '{unknown[0]}'.", param=unknown[0], code="unknown_parameter")
    filterset = SettlementFilter(params, queryset=Settlement.objects.select_related("asset"))
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise ValidationError(str(errors[0]), param=field, code="invalid_filter")
    qs: QuerySet = filterset.qs
    return cursor_page(qs, prefix="stl", limit_raw=params.get("limit"), starting_after=params.get("starting_after"))


def settlement_events(*, settlement_id: str) -> list[Event]:
    settlement_get(settlement_id=settlement_id)
    return list(Event.objects.filter(aggregate_type="settlement", aggregate_id=settlement_id).order_by("sequence"))
