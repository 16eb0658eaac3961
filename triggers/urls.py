from django.urls import path

from triggers import views

app_name = "triggers"
urlpatterns = [
    path("triggers/", views.trigger_list, name="list"),
    path("triggers/new/", views.trigger_edit, name="create"),
    path("triggers/<int:pk>/", views.trigger_edit, name="edit"),
    path("triggers/<int:pk>/dry-run/", views.trigger_dry_run, name="dry_run"),
    path("triggers/<int:pk>/toggle/", views.trigger_toggle, name="toggle"),
    path("triggers/<int:pk>/delete/", views.trigger_delete, name="delete"),
    path("triggers/<int:pk>/log/", views.trigger_log, name="log"),
]
