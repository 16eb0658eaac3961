"""Support tickets endpoints: CRUD at ``/api/v1/tickets`` and a generic help-desk webhook. Writes go through
``support.services``; who may write a ticket follows who may edit its account (``accounts.policies``)."""

from functools import partial

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts import policies
from csp.api.integrations import IntegrationOrRolePermission, IntegrationSecretAuthentication, is_integration
from support import selectors, services
from support.api.serializers import TicketSerializer, TicketWebhookSerializer
from support.filters import TicketFilter


class TicketViewSet(viewsets.ModelViewSet):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    search_fields = ["subject", "external_id"]
    ordering_fields = ["opened_at", "priority", "status"]
    ordering = ["-opened_at"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    integration_secret_setting = "SUPPORT_WEBHOOK_SECRET"

    def get_queryset(self):
        return selectors.ticket_list()

    def can_write_object(self, request, ticket):
        return policies.can_edit_account(request.user, ticket.account)

    def _check_account(self, account):
        if not policies.can_edit_account(self.request.user, account):
            raise PermissionDenied("You may not change this account's tickets.")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self._check_account(data["account"])
        serializer.instance = services.ticket_create(data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "account" in data:
            self._check_account(data["account"])
        serializer.instance = services.ticket_update(ticket=serializer.instance, data=data)

    @extend_schema(request=TicketWebhookSerializer, responses={200: TicketSerializer, 201: TicketSerializer})
    @action(
        detail=False,
        methods=["post"],
        authentication_classes=[IntegrationSecretAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES],
        permission_classes=[IntegrationOrRolePermission],
    )
    def webhook(self, request):
        """Create or update a ticket by the help desk's id (idempotent: resending the same payload is safe).
        The help desk authenticates with its own secret (``X-CSP-Webhook-Secret``, setting SUPPORT_WEBHOOK_SECRET)
        or an admin-issued API token. A user's token may only change tickets whose account the user may edit,
        both the account the ticket is on now and the one it moves to: a help-desk id names one ticket across
        all accounts, so checking only the target would let anyone take another team's ticket over."""
        incoming = TicketWebhookSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        account = data.pop("account")
        external_id = data.pop("id")
        may_edit = None if is_integration(request) else partial(policies.can_edit_account, request.user)
        data["opened_at"] = data.pop("created_at")
        data["solved_at"] = services.now_if_status_solved(data["status"], data.get("solved_at"), timezone.now())
        ticket, created = services.ticket_upsert(account=account, external_id=external_id, data=data, may_edit=may_edit)
        body = TicketSerializer(ticket).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
