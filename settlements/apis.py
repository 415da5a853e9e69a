from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fusionprime.api.fields import DecimalStringField, StrictCharField, StrictSerializer
from fusionprime.api.idempotency import run_idempotent
from fusionprime.api.models import Scope
from fusionprime.api.pagination import list_envelope
from settlements import selectors, services
from settlements.models import Rail, SettlementStatus
from settlements.serializers import SettlementSerializer, settlement_data


def _actor(request) -> str:
    return f"api_key:{request.auth.pk}"


class SettlementCreateInput(StrictSerializer):
    reference = StrictCharField(max_length=128)
    payer_reference = StrictCharField(max_length=128)
    payee_reference = StrictCharField(max_length=128)
    amount = DecimalStringField(help_text='Decimal string in major units, e.g. "1250.50".')
    asset = StrictCharField(max_length=12)
    rail = serializers.ChoiceField(choices=Rail.choices, default=Rail.OFFCHAIN)
    chain_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    metadata = serializers.DictField(child=StrictCharField(allow_blank=True, max_length=500), required=False)


class SettlementCancelInput(StrictSerializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


PROBLEM = OpenApiResponse(description="application/problem+json error")


class SettlementCreateApi(APIView):
    required_scopes = {"POST": Scope.SETTLEMENTS_WRITE}

    InputSerializer = SettlementCreateInput

    @extend_schema(
        operation_id="settlement_create",
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        responses={201: SettlementSerializer, 400: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )
    def post(self, request):
        def create():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            settlement = services.settlement_create(**serializer.validated_data, actor=_actor(request))
            return Response(
                settlement_data(settlement),
                status=status.HTTP_201_CREATED,
                headers={"Location": f"/v1/settlements/{settlement.id}"},
            )

        return run_idempotent(request, create, view=self)


class SettlementListApi(APIView):
    required_scopes = {"GET": Scope.SETTLEMENTS_READ}

    @extend_schema(
        operation_id="settlement_list",
        parameters=[
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("starting_after", str, description="A settlement id: the page after it"),
            OpenApiParameter("status", str, enum=SettlementStatus.values),
            OpenApiParameter("asset", str),
            OpenApiParameter("reference", str),
            OpenApiParameter("created_gte", OpenApiTypes.DATETIME),
            OpenApiParameter("created_lte", OpenApiTypes.DATETIME),
        ],
        responses={
            200: inline_serializer(
                "SettlementList",
                {
                    "object": serializers.CharField(),
                    "url": serializers.CharField(),
                    "has_more": serializers.BooleanField(),
                    "data": SettlementSerializer(many=True),
                },
            ),
            400: PROBLEM,
        },
    )
    def get(self, request):
        rows, has_more = selectors.settlement_list(params=request.query_params)
        return Response(list_envelope([settlement_data(s) for s in rows], has_more=has_more, url="/v1/settlements"))


class SettlementDetailApi(APIView):
    required_scopes = {"GET": Scope.SETTLEMENTS_READ}

    @extend_schema(operation_id="settlement_get", responses={200: SettlementSerializer, 404: PROBLEM})
    def get(self, request, settlement_id: str):
        return Response(settlement_data(selectors.settlement_get(settlement_id=settlement_id)))


class SettlementCancelApi(APIView):
    required_scopes = {"POST": Scope.SETTLEMENTS_WRITE}

    InputSerializer = SettlementCancelInput

    @extend_schema(
        operation_id="settlement_cancel",
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        responses={200: SettlementSerializer, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request, settlement_id: str):
        def cancel():
            serializer = self.InputSerializer(data=request.data if request.data else {})
            serializer.is_valid(raise_exception=True)
            settlement = services.settlement_cancel(
                settlement_id=settlement_id, actor=_actor(request), reason=serializer.validated_data["reason"]
            )
            return Response(settlement_data(settlement))

        return run_idempotent(request, cancel, view=self)


class SettlementEventListApi(APIView):
    required_scopes = {"GET": Scope.SETTLEMENTS_READ}

    @extend_schema(
        operation_id="settlement_events",
        responses={
            200: inline_serializer(
                "SettlementEventList",
                {
                    "object": serializers.CharField(),
                    "url": serializers.CharField(),
                    "has_more": serializers.BooleanField(),
                    "data": serializers.ListField(child=serializers.DictField(), help_text="CloudEvents envelopes"),
                },
            ),
            404: PROBLEM,
        },
    )
    def get(self, request, settlement_id: str):
        events = selectors.settlement_events(settlement_id=settlement_id)
        return Response(
            list_envelope(
                [e.to_envelope() for e in events], has_more=False, url=f"/v1/settlements/{settlement_id}/events"
            )
        )


class SettlementListCreateApi(SettlementListApi, SettlementCreateApi):
    """`/v1/settlements` serves two operations; each keeps its own class above."""

    required_scopes = {**SettlementListApi.required_scopes, **SettlementCreateApi.required_scopes}
