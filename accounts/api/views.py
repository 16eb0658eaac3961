"""Accounts, contacts and contracts endpoints. Writes go through services; owner rules through policies."""

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied

from accounts import policies, selectors, services
from accounts.api.serializers import (
    AccountDetailSerializer,
    AccountSerializer,
    ContactSerializer,
    ContractSerializer,
)
from accounts.filters import AccountFilter, ContactFilter, ContractFilter
from accounts.models import Account, AccountTeamMember


class AccountViewSet(viewsets.ModelViewSet):
    filterset_class = AccountFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        qs = selectors.account_list(user=self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("team_members", queryset=AccountTeamMember.objects.select_related("user")),
                Prefetch("children", queryset=Account.objects.only("id", "parent_id")),
            )
        return qs

    def get_serializer_class(self):
        return AccountDetailSerializer if self.action == "retrieve" else AccountSerializer

    def can_write_object(self, request, account):
        if request.method == "DELETE":
            return policies.can_delete_account(request.user, account)
        return policies.can_edit_account(request.user, account)

    def _check_owner(self, data, current=None):
        if (
            "owner" in data
            and data["owner"] != current
            and not policies.can_assign_owner(self.request.user, data["owner"])
        ):
            raise PermissionDenied("You may not assign this account to that owner.")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.setdefault("owner", self.request.user if self.request.user.is_csm else None)
        self._check_owner(data)
        serializer.instance = services.account_create(data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        self._check_owner(data, serializer.instance.owner)
        serializer.instance = services.account_update(account=serializer.instance, data=data)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)


class _AccountChildViewSet(viewsets.ModelViewSet):
    """Contacts and contracts: writable by whoever may edit the account they belong to. Subclasses name
    their services; the account of an existing record never changes."""

    noun = "record"

    def create_with(self, account, data):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def update_with(self, instance, data):  # pragma: no cover
        raise NotImplementedError

    def can_write_object(self, request, obj):
        return policies.can_edit_account(request.user, obj.account)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account = data.pop("account")
        if not policies.can_edit_account(self.request.user, account):
            raise PermissionDenied("You may not change this account.")
        serializer.instance = self.create_with(account, data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "account" in data and data.pop("account") != serializer.instance.account:
            raise PermissionDenied(f"A {self.noun} cannot be moved to another account.")
        serializer.instance = self.update_with(serializer.instance, data)


class ContactViewSet(_AccountChildViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "email", "title"]
    ordering_fields = ["name", "email", "created_at"]
    ordering = ["name"]
    noun = "contact"

    def get_queryset(self):
        return selectors.contact_list()

    def create_with(self, account, data):
        return services.contact_create(account=account, data=data)

    def update_with(self, instance, data):
        return services.contact_update(contact=instance, data=data)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)


class ContractViewSet(_AccountChildViewSet):
    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    search_fields = ["name", "external_id"]
    ordering_fields = ["start_date", "end_date", "arr"]
    ordering = ["-end_date"]
    noun = "contract"

    def get_queryset(self):
        return selectors.contract_list()

    def create_with(self, account, data):
        return services.contract_create(account=account, data=data)

    def update_with(self, instance, data):
        return services.contract_update(contract=instance, data=data, user=self.request.user)

    def perform_destroy(self, instance):
        services.contract_delete(contract=instance, user=self.request.user)
