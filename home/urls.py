from django.urls import path

from home import views

# Not namespaced: ``home`` is the landing page's name everywhere (templates, redirects, LOGIN_REDIRECT_URL).
urlpatterns = [
    path("", views.my_day, name="home"),
    path("home/tasks/cta/<int:task_id>/done/", views.cta_task_done, name="home_cta_task_done"),
    path("accounts/<int:pk>/overview/", views.account_overview, name="account_overview"),
    path("home/tasks/plan/<int:task_id>/done/", views.plan_task_done, name="home_plan_task_done"),
]
