from rest_framework.routers import SimpleRouter

from support.api.views import TicketViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("tickets", TicketViewSet, basename="ticket")
urlpatterns = router.urls
