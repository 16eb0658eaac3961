from rest_framework.routers import DefaultRouter

from surveys.api.views import SurveyResponseViewSet, SurveyViewSet

router = DefaultRouter()
router.register("surveys", SurveyViewSet, basename="survey")
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
urlpatterns = router.urls
