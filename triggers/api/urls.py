from rest_framework.routers import DefaultRouter

from triggers.api.views import TriggerViewSet

router = DefaultRouter()
router.register("triggers", TriggerViewSet, basename="trigger")
urlpatterns = router.urls
