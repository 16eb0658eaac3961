from django.urls import path

from success import views

app_name = "success"
urlpatterns = [
    path("accounts/<int:pk>/plans/", views.account_plans, name="account"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/print/", views.plan_print, name="print"),
    path("plans/<int:plan_id>/edit/", views.plan_edit, name="edit"),
    path("plans/<int:plan_id>/<str:kind>/new/", views.plan_item_save, name="item_create"),
    path("plans/<int:plan_id>/<str:kind>/<int:item_id>/", views.plan_item_save, name="item_edit"),
    path("plans/<int:plan_id>/<str:kind>/<int:item_id>/delete/", views.plan_item_delete, name="item_delete"),
    path("success/templates/", views.template_list, name="templates"),
    path("success/templates/new/", views.template_edit, name="template_create"),
    path("success/templates/<int:pk>/", views.template_edit, name="template_edit"),
]
