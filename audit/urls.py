from django.urls import path

from audit import privacy_views, views

app_name = "audit"
urlpatterns = [
    path("admin/audit/", views.audit_log, name="log"),
    path("admin/audit/export.csv", views.audit_export, name="export"),
    path("admin/privacy/contacts/<int:pk>/export/", privacy_views.contact_export, name="contact_export"),
    path("admin/privacy/contacts/<int:pk>/erase/", privacy_views.contact_erase, name="contact_erase"),
]
