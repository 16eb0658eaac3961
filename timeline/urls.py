from django.urls import path

from timeline import views

app_name = "timeline"
urlpatterns = [
    path("accounts/<int:pk>/timeline/", views.account_timeline, name="account"),
    path("accounts/<int:pk>/timeline/log/", views.activity_log, name="log"),
    path("timeline/activities/<int:pk>/delete/", views.activity_delete, name="delete"),
    path("timeline/suggest-sentiment/", views.sentiment_suggestion, name="suggest"),
    path("timeline/going-dark/", views.going_dark, name="going_dark"),
]
