from rest_framework.routers import DefaultRouter

from triggers.api.views import NotificationViewSet, TriggerViewSet

router = DefaultRouter()
router.register("triggers", TriggerViewSet, basename="trigger")
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = router.urls
