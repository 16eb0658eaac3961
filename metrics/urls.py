from django.urls import path

from metrics import renewal_views, views

app_name = "metrics"
urlpatterns = [
    path("dashboards/", views.index, name="index"),
    path("dashboards/team/", views.team, name="team"),
    path("dashboards/portfolio/", views.portfolio, name="portfolio"),
    path("dashboards/renewals/", views.forecast, name="forecast"),
    path("dashboards/cohorts/", views.cohorts, name="cohorts"),
    path("dashboards/health-backtest/", views.health_backtest, name="backtest"),
    path("dashboards/accounts/", views.drilldown, name="drilldown"),
    path("renewals/", renewal_views.board, name="renewals"),
    path("renewals/expansions/", renewal_views.expansions, name="expansions"),
    path("renewals/<int:pk>/", renewal_views.detail, name="renewal_detail"),
    path("renewals/<int:pk>/stage/", renewal_views.stage, name="renewal_stage"),
    path("renewals/<int:pk>/call/", renewal_views.call, name="renewal_call"),
]
