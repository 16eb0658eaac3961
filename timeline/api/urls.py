from rest_framework.routers import DefaultRouter

from timeline.api.views import ActivityViewSet, TimelineEntryViewSet

router = DefaultRouter()
router.register("activities", ActivityViewSet, basename="activity")
router.register("timeline", TimelineEntryViewSet, basename="timeline-entry")
urlpatterns = router.urls
