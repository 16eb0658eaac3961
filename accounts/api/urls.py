from rest_framework.routers import DefaultRouter

from accounts.api.views import AccountViewSet, ContactViewSet, ContractViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("contracts", ContractViewSet, basename="contract")
urlpatterns = router.urls
