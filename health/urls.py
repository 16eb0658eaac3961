from django.urls import path

from health import views

app_name = "health"
urlpatterns = [
    path("accounts/<int:pk>/", views.account_health, name="account"),
    path("accounts/<int:pk>/override/", views.override_create, name="override_create"),
    path("accounts/<int:pk>/override/<int:override_id>/end/", views.override_end, name="override_end"),
    path("accounts/<int:pk>/sentiment/", views.sentiment_set, name="sentiment_set"),
    path("scorecards/", views.scorecard_list, name="scorecard_list"),
    path("scorecards/new/", views.scorecard_edit, name="scorecard_create"),
    path("scorecards/<int:pk>/", views.scorecard_edit, name="scorecard_edit"),
    path("scorecards/<int:pk>/delete/", views.scorecard_delete_view, name="scorecard_delete"),
    path("scorecards/<int:pk>/history/", views.scorecard_recompute_history, name="scorecard_history"),
]
