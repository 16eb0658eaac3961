from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.import_list, name="list"),
    path("imports/<int:pk>/", views.import_detail, name="detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="progress"),
    path("imports/<int:pk>/start/", views.import_start, name="start"),
    path("exports/accounts.csv", views.account_export, name="account_export"),
    path("exports/accounts/<int:pk>/timeline.csv", views.timeline_export, name="timeline_export"),
]
