from rest_framework.routers import DefaultRouter

from success.api.views import (
    MilestoneViewSet,
    ObjectiveViewSet,
    PlanTaskViewSet,
    PlanTemplateViewSet,
    SuccessPlanViewSet,
)

router = DefaultRouter()
router.register("plan-templates", PlanTemplateViewSet, basename="plan-template")
router.register("success-plans", SuccessPlanViewSet, basename="success-plan")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("plan-tasks", PlanTaskViewSet, basename="plan-task")
urlpatterns = router.urls
