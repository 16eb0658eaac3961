from django.urls import path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_edit, name="create"),
    path("preview/", views.segment_preview, name="preview"),
    path("<int:pk>/", views.segment_edit, name="edit"),
    path("<int:pk>/delete/", views.segment_delete, name="delete"),
]
