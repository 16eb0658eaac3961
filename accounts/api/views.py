"""Accounts, contacts and contracts endpoints. Writes go through services; owner rules through policies."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import policies, selectors, services
from accounts.api.serializers import (
    AccountDetailSerializer,
    AccountSerializer,
    ContactSerializer,
    ContractSerializer,
    account_list_data,
    account_list_values,
)
from accounts.filters import AccountFilter, ContactFilter, ContractFilter
from accounts.models import Account, AccountTeamMember, ContractRevision
from csp.api.filtering import FilteredListBackend


class AccountViewSet(viewsets.ModelViewSet):
    filterset_class = AccountFilter
    filter_backends = [FilteredListBackend]  # builds only the filters a request names

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

    def list(self, request, *args, **kwargs):
        # Same filters, scope and pagination; the page is read as plain rows (accounts.api.serializers), the
        # count from the filtered accounts alone (without the joined names: csp.api.pagination).
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginator.paginate_queryset(
            account_list_values(queryset), request, view=self, count_queryset=queryset
        )
        return self.get_paginated_response(account_list_data(page))

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

    @action(detail=True, methods=["post"])
    def churn(self, request, pk=None):
        """Mark the account churned on ``churned_on`` (dated, with a reason); its contracts stop counting then."""
        account = self.get_object()
        if not policies.can_edit_account(request.user, account):
            raise PermissionDenied("You may not change this account.")
        body = _ChurnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.account_churn(
            account=account,
            churned_on=body.validated_data["churned_on"],
            reason=body.validated_data["reason"],
            user=request.user,
        )
        account.refresh_from_db()
        return Response(AccountSerializer(account).data)


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


class _RevenueChangeSerializer(serializers.Serializer):
    effective_date = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class _ChurnSerializer(serializers.Serializer):
    churned_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ContractRevisionSerializer(serializers.ModelSerializer):
    changed_by_name = serializers.StringRelatedField(source="changed_by")

    class Meta:
        model = ContractRevision
        fields = ["id", "field", "old_value", "new_value", "changed_by", "changed_by_name", "changed_at", "note"]


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

    def _terms(self, request, contract) -> dict:
        # The new contract's terms: any contract field sent, validated like an edit of the old contract.
        serializer = ContractSerializer(contract, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("account", None)
        return data

    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """Upgrade/downgrade from ``effective_date``: a new contract with the sent terms; past days keep theirs."""
        contract = self.get_object()
        change = _RevenueChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        new = services.contract_amend(
            contract=contract,
            effective_date=change.validated_data["effective_date"],
            data=self._terms(request, contract),
            user=request.user,
        )
        return Response(ContractSerializer(new).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Renew: a new contract from the day after the end for the same term (terms sent override)."""
        contract = self.get_object()
        new = services.contract_renew(contract=contract, data=self._terms(request, contract), user=request.user)
        return Response(ContractSerializer(new).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel from ``effective_date`` (dated; it counts until the day before)."""
        contract = self.get_object()
        change = _RevenueChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        services.contract_cancel(
            contract=contract,
            effective_date=change.validated_data["effective_date"],
            reason=change.validated_data["reason"],
            user=request.user,
        )
        contract.refresh_from_db()
        return Response(ContractSerializer(contract).data)

    @extend_schema(responses=ContractRevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])  # the whole list, unfiltered
    def revisions(self, request, pk=None):
        """Recorded changes of the contract: who, when, old and new value."""
        contract = self.get_object()
        rows = selectors.contract_revision_list(contract_id=contract.pk)
        return Response(ContractRevisionSerializer(rows, many=True).data)
