from rest_framework.routers import DefaultRouter

from playbooks.api.views import CTACommentViewSet, CTAReasonViewSet, CTATaskViewSet, CTAViewSet, PlaybookViewSet

router = DefaultRouter()
router.register("ctas", CTAViewSet, basename="cta")
router.register("cta-tasks", CTATaskViewSet, basename="cta-task")
router.register("cta-comments", CTACommentViewSet, basename="cta-comment")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("cta-reasons", CTAReasonViewSet, basename="cta-reason")
urlpatterns = router.urls
