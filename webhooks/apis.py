"""`/v1/webhook_endpoints`: integrators manage their endpoints (scope webhooks:write)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fusionprime.api.fields import StrictCharField, StrictSerializer
from fusionprime.api.idempotency import REPLAYED_HEADER, run_idempotent
from fusionprime.api.models import Scope
from fusionprime.api.pagination import list_envelope
from webhooks import selectors, services
from webhooks.models import EndpointState, WebhookEndpoint

PROBLEM = OpenApiResponse(description="application/problem+json error")
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)


def _actor(request) -> str:
    return f"api_key:{request.auth.pk}"


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.SerializerMethodField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    counterparty = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())
    state = serializers.CharField()
    disabled_reason = serializers.CharField()
    rate_limit = serializers.IntegerField(allow_null=True)
    max_in_flight = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_object(self, obj) -> str:
        return "webhook_endpoint"


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="Returned once, by create and rotate_secret.")


def endpoint_data(endpoint: WebhookEndpoint) -> dict:
    return dict(WebhookEndpointSerializer(endpoint).data)


def _with_secret(response: Response, secret: str | None) -> Response:
    # The secret is added after the idempotency record is stored, so it never rests in plain text
    # there; a replayed response comes without it (rotate to get a new one).
    if secret and response.status_code < 300 and not response.get(REPLAYED_HEADER):
        response.data = {**response.data, "secret": secret}
    return response


class WebhookEndpointInput(StrictSerializer):
    url = StrictCharField(max_length=2048)
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(child=StrictCharField(max_length=64), max_length=100)
    counterparty = StrictCharField(max_length=128, required=False, allow_blank=True, default="")
    headers = serializers.DictField(
        child=StrictCharField(max_length=1000, allow_blank=True), required=False, default=dict
    )
    state = serializers.ChoiceField(choices=[EndpointState.ACTIVE, EndpointState.PAUSED], default=EndpointState.ACTIVE)
    rate_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    max_in_flight = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=10)


class WebhookEndpointUpdateInput(WebhookEndpointInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class WebhookEndpointCreateApi(APIView):
    required_scopes = {"POST": Scope.WEBHOOKS_WRITE}
    InputSerializer = WebhookEndpointInput

    @extend_schema(
        operation_id="webhook_endpoint_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: WebhookEndpointWithSecretSerializer, 400: PROBLEM, 409: PROBLEM},
    )
    def post(self, request):
        created = {}

        def create():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            endpoint, created["secret"] = services.webhook_endpoint_create(
                **serializer.validated_data, actor=_actor(request)
            )
            return Response(
                endpoint_data(endpoint),
                status=status.HTTP_201_CREATED,
                headers={"Location": f"/v1/webhook_endpoints/{endpoint.id}"},
            )

        return _with_secret(run_idempotent(request, create, view=self), created.get("secret"))


class WebhookEndpointListApi(APIView):
    required_scopes = {"GET": Scope.WEBHOOKS_WRITE}

    @extend_schema(
        operation_id="webhook_endpoint_list",
        parameters=[
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("starting_after", str, description="An endpoint id: the page after it"),
        ],
        responses={
            200: inline_serializer(
                "WebhookEndpointList",
                {
                    "object": serializers.CharField(),
                    "url": serializers.CharField(),
                    "has_more": serializers.BooleanField(),
                    "data": WebhookEndpointSerializer(many=True),
                },
            ),
            400: PROBLEM,
        },
    )
    def get(self, request):
        rows, has_more = selectors.webhook_endpoint_list(params=request.query_params)
        return Response(list_envelope([endpoint_data(e) for e in rows], has_more=has_more, url="/v1/webhook_endpoints"))


class WebhookEndpointListCreateApi(WebhookEndpointListApi, WebhookEndpointCreateApi):
    """`/v1/webhook_endpoints` serves two operations; each keeps its own class above."""

    required_scopes = {**WebhookEndpointListApi.required_scopes, **WebhookEndpointCreateApi.required_scopes}


class WebhookEndpointDetailApi(APIView):
    required_scopes = {"GET": Scope.WEBHOOKS_WRITE, "POST": Scope.WEBHOOKS_WRITE, "DELETE": Scope.WEBHOOKS_WRITE}
    InputSerializer = WebhookEndpointUpdateInput

    @extend_schema(operation_id="webhook_endpoint_get", responses={200: WebhookEndpointSerializer, 404: PROBLEM})
    def get(self, request, endpoint_id: str):
        return Response(endpoint_data(selectors.webhook_endpoint_get(endpoint_id=endpoint_id)))

    @extend_schema(
        operation_id="webhook_endpoint_update",
        request=InputSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: WebhookEndpointSerializer, 400: PROBLEM, 404: PROBLEM},
    )
    def post(self, request, endpoint_id: str):
        def update():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            endpoint = services.webhook_endpoint_update(
                endpoint_id=endpoint_id, actor=_actor(request), **serializer.validated_data
            )
            return Response(endpoint_data(endpoint))

        return run_idempotent(request, update, view=self)

    @extend_schema(
        operation_id="webhook_endpoint_delete",
        responses={
            200: inline_serializer(
                "WebhookEndpointDeleted",
                {
                    "id": serializers.CharField(),
                    "object": serializers.CharField(),
                    "deleted": serializers.BooleanField(),
                },
            ),
            404: PROBLEM,
        },
    )
    def delete(self, request, endpoint_id: str):
        services.webhook_endpoint_delete(endpoint_id=endpoint_id, actor=_actor(request))
        return Response({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


class WebhookEndpointRotateSecretApi(APIView):
    required_scopes = {"POST": Scope.WEBHOOKS_WRITE}

    @extend_schema(
        operation_id="webhook_endpoint_rotate_secret",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={200: WebhookEndpointWithSecretSerializer, 404: PROBLEM},
    )
    def post(self, request, endpoint_id: str):
        rotated = {}

        def rotate():
            if request.data:
                StrictSerializer(data=request.data).is_valid(raise_exception=True)
            rotated["secret"] = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint_id, actor=_actor(request))
            return Response(endpoint_data(selectors.webhook_endpoint_get(endpoint_id=endpoint_id)))

        return _with_secret(run_idempotent(request, rotate, view=self), rotated.get("secret"))


class WebhookEndpointTestApi(APIView):
    required_scopes = {"POST": Scope.WEBHOOKS_WRITE}

    @extend_schema(
        operation_id="webhook_endpoint_send_test",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={
            202: inline_serializer(
                "WebhookTestQueued",
                {
                    "object": serializers.CharField(),
                    "delivery_id": serializers.CharField(),
                    "event_id": serializers.CharField(),
                    "type": serializers.CharField(),
                },
            ),
            404: PROBLEM,
            409: PROBLEM,
        },
    )
    def post(self, request, endpoint_id: str):
        def send():
            if request.data:
                StrictSerializer(data=request.data).is_valid(raise_exception=True)
            delivery = services.webhook_endpoint_send_test(endpoint_id=endpoint_id, actor=_actor(request))
            return Response(
                {
                    "object": "webhook_test",
                    "delivery_id": delivery.id,
                    "event_id": delivery.event_id,
                    "type": delivery.event_type,
                },
                status=status.HTTP_202_ACCEPTED,
            )

        return run_idempotent(request, send, view=self)
