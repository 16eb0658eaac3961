from rest_framework.routers import SimpleRouter

from support.api.views import TicketViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # both /api/v1/tickets and /api/v1/tickets/ (help desks post to either)
router.register("tickets", TicketViewSet, basename="ticket")
urlpatterns = router.urls
