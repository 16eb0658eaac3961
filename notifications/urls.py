from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/badge/", views.notification_badge, name="badge"),
    path("notifications/read/", views.notification_read, name="read"),
]
