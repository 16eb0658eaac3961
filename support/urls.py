from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("accounts/<int:pk>/tickets/", views.account_tickets, name="account_tickets"),
]
