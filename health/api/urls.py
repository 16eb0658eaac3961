from rest_framework.routers import DefaultRouter

from health.api.views import CurrentHealthViewSet, OverrideViewSet, ScorecardViewSet, SentimentViewSet, SnapshotViewSet

router = DefaultRouter()
router.register("health/scorecards", ScorecardViewSet, basename="health-scorecard")
router.register("health/current", CurrentHealthViewSet, basename="health-current")
router.register("health/snapshots", SnapshotViewSet, basename="health-snapshot")
router.register("health/overrides", OverrideViewSet, basename="health-override")
router.register("health/sentiment", SentimentViewSet, basename="health-sentiment")
urlpatterns = router.urls
