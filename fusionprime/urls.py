from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from fusionprime.api import views as api_views
from fusionprime.events.schemas.views import schema_detail

v1 = [
    path("", include("settlements.urls")),
    path("", include("webhooks.urls")),
    path("", include("escrow.urls")),
    path("", include("risk.urls")),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[], throttle_classes=[]),
        name="openapi",
    ),
    path(
        "docs",
        SpectacularSwaggerView.as_view(
            url_name="openapi", authentication_classes=[], permission_classes=[], throttle_classes=[]
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include(v1)),
    path("healthz", api_views.healthz, name="healthz"),
    path("readyz", api_views.readyz, name="readyz"),
    path("v1/schemas/<str:name>.json", schema_detail, name="event-schema"),
]

admin.site.site_header = "Fusion Prime back office"
admin.site.site_title = "Fusion Prime"
admin.site.index_title = "Treasury"

handler400 = "fusionprime.api.exceptions.handler400"
handler403 = "fusionprime.api.exceptions.handler403"
handler404 = "fusionprime.api.exceptions.handler404"
handler500 = "fusionprime.api.exceptions.handler500"
