from django.urls import include, path
from rest_framework.routers import SimpleRouter

from metrics.api import views

router = SimpleRouter()
router.register("metrics/acquisition-costs", views.AcquisitionCostViewSet, basename="acquisition-cost")

urlpatterns = [
    path("metrics/revenue/", views.RevenueView.as_view(), name="revenue"),
    path("metrics/revenue/accounts/", views.RevenueAccountsView.as_view(), name="revenue-accounts"),
    path("metrics/usage/", views.UsageView.as_view(), name="usage"),
    path("", include(router.urls)),
]
