from rest_framework.routers import DefaultRouter

from imports.api.views import ImportJobViewSet

router = DefaultRouter()
router.register("imports", ImportJobViewSet, basename="import")
urlpatterns = router.urls
