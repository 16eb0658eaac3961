"""Renewals and expansion opportunities endpoints (``/api/v1/renewals/``, ``/api/v1/expansions/``).

Every role reads them (viewers too); writes are for the roles that may change the account (``accounts.policies``):
admins, the owner's manager, the owner and the account team. Stage changes and calls go through
``accounts.renewals`` so a signed renewal creates the next contract and a churn is dated.
"""

from django.db.models import Q
from django_filters import rest_framework as df
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts import policies, renewals
from accounts.models import Account
from accounts.renewal_models import (
    ExpansionOpportunity,
    ExpansionStage,
    ForecastCall,
    Renewal,
    RenewalCallChange,
    RenewalStage,
)
from csp.models import Role, User


class RenewalCallChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = RenewalCallChange
        fields = ["old_call", "new_call", "risk_reason", "changed_by", "changed_at"]


class RenewalSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    end_date = serializers.DateField(source="contract.end_date", read_only=True)
    contract_arr = serializers.DecimalField(source="contract.arr", max_digits=14, decimal_places=2, read_only=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Renewal
        fields = [
            "id", "contract", "account", "account_name", "owner", "end_date", "contract_arr", "stage",
            "expected_arr", "forecast_call", "forecast_call_by", "forecast_call_at", "risk_reason", "closed_on",
            "next_contract", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("owner", "expected_arr")]


class RenewalDetailSerializer(RenewalSerializer):
    call_changes = RenewalCallChangeSerializer(many=True, read_only=True)

    class Meta(RenewalSerializer.Meta):
        fields = [*RenewalSerializer.Meta.fields, "call_changes"]


class StageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=RenewalStage.choices)
    # signed: the next term (defaults: the day after the end, the same length, the expected ARR)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    arr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    seats = serializers.IntegerField(min_value=0, required=False)
    # churned: when and why
    churned_on = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CallSerializer(serializers.Serializer):
    forecast_call = serializers.ChoiceField(choices=ForecastCall.choices, allow_blank=True)
    risk_reason = serializers.CharField(required=False, allow_blank=True)


class RenewalFilter(df.FilterSet):
    account = df.NumberFilter(field_name="account_id")
    owner = df.NumberFilter(field_name="owner_id")
    stage = df.MultipleChoiceFilter(choices=RenewalStage.choices)
    forecast_call = df.ChoiceFilter(choices=ForecastCall.choices)
    end_after = df.DateFilter(field_name="contract__end_date", lookup_expr="gte")
    end_before = df.DateFilter(field_name="contract__end_date", lookup_expr="lte")

    class Meta:
        model = Renewal
        fields: list[str] = []


def _can_change(user: User, account: Account) -> bool:
    return policies.can_edit_account(user, account)


def _check_owner(user: User, owner: User | None) -> None:
    if not policies.can_assign_owner(user, owner):
        raise PermissionDenied("You may not give this to that owner.")


class RenewalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Renewals open by themselves (``RENEWAL_OPEN_DAYS`` before the contract ends); here they are read, their
    expected ARR or owner changed (PATCH), their stage moved (``POST .../stage/``) and the CSM's call recorded
    (``POST .../call/``)."""

    filterset_class = RenewalFilter
    filter_backends = [df.DjangoFilterBackend]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        qs = Renewal.objects.select_related("account", "contract", "owner").order_by("contract__end_date", "id")
        if self.action == "retrieve":
            qs = qs.prefetch_related("call_changes")
        return qs

    def get_serializer_class(self):
        return RenewalDetailSerializer if self.action == "retrieve" else RenewalSerializer

    def can_write_object(self, request, renewal):
        return _can_change(request.user, renewal.account)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "owner" in data and data["owner"] != serializer.instance.owner:
            _check_owner(self.request.user, data["owner"])
        serializer.instance = renewals.renewal_update(renewal=serializer.instance, data=data)

    @action(detail=True, methods=["post"], serializer_class=StageSerializer)
    def stage(self, request, pk=None):
        renewal = self.get_object()
        payload = StageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        stage = data.pop("stage")
        renewal = renewals.renewal_set_stage(renewal=renewal, stage=stage, user=request.user, data=data)
        return Response(RenewalSerializer(renewal).data)

    @action(detail=True, methods=["post"], serializer_class=CallSerializer)
    def call(self, request, pk=None):
        renewal = self.get_object()
        payload = CallSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        renewal = renewals.renewal_set_call(
            renewal=renewal,
            call=payload.validated_data["forecast_call"],
            risk_reason=payload.validated_data.get("risk_reason"),
            user=request.user,
        )
        return Response(RenewalSerializer(renewal).data)


class ExpansionSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    stage = serializers.ChoiceField(choices=ExpansionStage.choices, required=False)

    class Meta:
        model = ExpansionOpportunity
        fields = [
            "id", "account", "owner", "title", "amount_arr", "stage", "expected_close", "notes", "created_by",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at", "updated_at"]


class ExpansionFilter(df.FilterSet):
    account = df.NumberFilter(field_name="account_id")
    owner = df.NumberFilter(field_name="owner_id")
    stage = df.MultipleChoiceFilter(choices=ExpansionStage.choices)

    class Meta:
        model = ExpansionOpportunity
        fields: list[str] = []


class ExpansionViewSet(viewsets.ModelViewSet):
    """Expansion opportunities CSMs log on their accounts (CSQLs): upsells and cross-sells with the ARR they add."""

    serializer_class = ExpansionSerializer
    filterset_class = ExpansionFilter
    filter_backends = [df.DjangoFilterBackend]

    def get_queryset(self):
        return ExpansionOpportunity.objects.select_related("account", "owner").order_by("expected_close", "id")

    def can_write_object(self, request, expansion):
        return _can_change(request.user, expansion.account)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account = data.pop("account")
        if not _can_change(self.request.user, account):
            raise PermissionDenied("You may not change this account.")
        if data.get("owner") is not None:
            _check_owner(self.request.user, data["owner"])
        serializer.instance = renewals.expansion_create(account=account, data=data, user=self.request.user)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "account" in data and data.pop("account") != serializer.instance.account:
            raise PermissionDenied("An opportunity stays on its account.")
        if "owner" in data and data["owner"] != serializer.instance.owner:
            _check_owner(self.request.user, data["owner"])
        serializer.instance = renewals.expansion_update(expansion=serializer.instance, data=data)

    def perform_destroy(self, instance):
        renewals.expansion_delete(expansion=instance)


def scope_q(user: User) -> Q:
    """Renewals and opportunities a user works by default (their own for CSMs, their teams' for managers)."""
    if user.role == Role.CSM:
        return Q(owner=user) | Q(account__owner=user)
    if user.role == Role.MANAGER:
        return Q(account__owner__team__manager=user) | Q(account__owner=user)
    return Q()


router = DefaultRouter()
router.register("renewals", RenewalViewSet, basename="renewal")
router.register("expansions", ExpansionViewSet, basename="expansion")
urlpatterns = router.urls
