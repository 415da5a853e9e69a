from django.urls import path

from settlements import apis

urlpatterns = [
    path("settlements", apis.SettlementListCreateApi.as_view(), name="settlement-list"),
    path("settlements/<str:settlement_id>", apis.SettlementDetailApi.as_view(), name="settlement-detail"),
    path("settlements/<str:settlement_id>/cancel", apis.SettlementCancelApi.as_view(), name="settlement-cancel"),
    path("settlements/<str:settlement_id>/events", apis.SettlementEventListApi.as_view(), name="settlement-events"),
]
