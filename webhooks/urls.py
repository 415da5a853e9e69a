from django.urls import path

from webhooks import apis

urlpatterns = [
    path("webhook_endpoints", apis.WebhookEndpointListCreateApi.as_view(), name="webhook-endpoint-list"),
    path(
        "webhook_endpoints/<str:endpoint_id>", apis.WebhookEndpointDetailApi.as_view(), name="webhook-endpoint-detail"
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/rotate_secret",
        apis.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhook_endpoints/<str:endpoint_id>/test", apis.WebhookEndpointTestApi.as_view(), name="webhook-endpoint-test"
    ),
]
