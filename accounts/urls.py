from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_edit, name="create"),
    path("reassign/", views.account_reassign, name="reassign"),
    path("picker/", views.account_picker, name="picker"),
    path("custom-fields/", views.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", views.custom_field_edit, name="custom_field_create"),
    path("custom-fields/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path("custom-fields/<int:pk>/delete/", views.custom_field_delete, name="custom_field_delete"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/delete/", views.account_delete, name="delete"),
    path("<int:pk>/team/", views.account_team_add, name="team_add"),
    path("<int:pk>/team/<int:member_id>/remove/", views.account_team_remove, name="team_remove"),
    path("<int:pk>/contacts/new/", views.contact_edit, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_id>/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/contracts/new/", views.contract_edit, name="contract_create"),
    path("<int:pk>/contracts/<int:contract_id>/", views.contract_edit, name="contract_edit"),
    path("<int:pk>/contracts/<int:contract_id>/change/", views.contract_change, name="contract_change"),
    path("<int:pk>/contracts/<int:contract_id>/delete/", views.contract_delete, name="contract_delete"),
]
