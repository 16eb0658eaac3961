from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("ingestion/", views.console, name="console"),
    path("ingestion/sources/", views.source_list, name="source_list"),
    path("ingestion/sources/<int:pk>/", views.source_edit, name="source_edit"),
    path("ingestion/sources/<int:pk>/rotate/", views.source_rotate, name="source_rotate"),
    path("ingestion/features/", views.feature_list, name="feature_list"),
    path("ingestion/features/<int:pk>/delete/", views.feature_delete, name="feature_delete"),
    path("accounts/<int:pk>/usage/", views.account_usage, name="account_usage"),
]
