from django.urls import path
from rest_framework.routers import DefaultRouter

from audit.api.views import AuditEntryViewSet
from audit.privacy_views import ContactEraseAPI, ContactExportAPI

router = DefaultRouter()
router.register("audit", AuditEntryViewSet, basename="audit")
urlpatterns = [
    *router.urls,
    path("privacy/contacts/<int:pk>/export/", ContactExportAPI.as_view(), name="privacy-contact-export"),
    path("privacy/contacts/<int:pk>/erase/", ContactEraseAPI.as_view(), name="privacy-contact-erase"),
]
