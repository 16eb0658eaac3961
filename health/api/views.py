"""Health endpoints: scorecards (admins write), current health and snapshots (read for every role), overrides and
CSM pulses (writable by whoever may edit the account). Writes go through services."""

from functools import partial

import django_filters
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import policies
from csp.models import Role
from health import selectors, services
from health.api.serializers import (
    CurrentHealthSerializer,
    OverrideSerializer,
    ScorecardSerializer,
    SentimentSerializer,
    SnapshotSerializer,
)
from health.models import AccountHealth, Band, HealthOverride, HealthSnapshot, Trend
from health.scorecards import scorecard_delete, scorecard_save
from health.tasks import health_recompute_history

ADMIN = frozenset({Role.ADMIN})


class ScorecardViewSet(viewsets.ModelViewSet):
    serializer_class = ScorecardSerializer
    write_roles = ADMIN
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["-is_default", "name"]

    def get_queryset(self):
        return selectors.scorecard_list()

    def _save(self, serializer, scorecard=None):
        data = dict(serializer.validated_data)
        measures = data.pop("measures", None)
        if measures is not None:
            measures = [dict(m) for m in measures]
        card = scorecard_save(scorecard=scorecard, data=data, measures=measures)
        serializer.instance = selectors.scorecard_list().get(pk=card.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        scorecard_delete(scorecard=instance)

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "RecomputeQueued",
                {
                    "status": serializers.CharField(),
                    "scorecard": serializers.IntegerField(),
                    "days": serializers.IntegerField(),
                },
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="recompute-history")
    def recompute_history(self, request, pk=None):
        """Recompute 180 days of snapshots of this scorecard's accounts from stored data (in the worker)."""
        card = self.get_object()
        transaction.on_commit(partial(health_recompute_history.delay, card.pk))
        return Response(
            {"status": "queued", "scorecard": card.pk, "days": services.HISTORY_DAYS}, status.HTTP_202_ACCEPTED
        )


class CurrentHealthFilter(django_filters.FilterSet):
    band = django_filters.ChoiceFilter(choices=Band.choices)
    trend = django_filters.ChoiceFilter(choices=Trend.choices)
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte")
    owner = django_filters.NumberFilter(field_name="account__owner")

    class Meta:
        model = AccountHealth
        fields = ["band", "trend", "scorecard", "account"]


@extend_schema_view(retrieve=extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]))
class CurrentHealthViewSet(viewsets.ReadOnlyModelViewSet):
    """Current health per account; the path id is the account's id (AccountHealth's key)."""

    serializer_class = CurrentHealthSerializer
    filterset_class = CurrentHealthFilter
    ordering_fields = ["score", "computed_at", "changed_at"]
    ordering = ["score"]
    search_fields = ["account__name"]

    def get_queryset(self):
        return selectors.current_list()


class SnapshotFilter(django_filters.FilterSet):
    since = django_filters.DateFilter(field_name="as_of", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="as_of", lookup_expr="lte")
    band = django_filters.ChoiceFilter(choices=Band.choices)

    class Meta:
        model = HealthSnapshot
        fields = ["account", "scorecard", "band", "source"]


class SnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilter
    ordering_fields = ["computed_at", "score"]
    ordering = ["-computed_at"]

    def get_queryset(self):
        return HealthSnapshot.objects.all()


class _AccountWriteMixin:
    def _check_account(self, account):
        if not policies.can_edit_account(self.request.user, account):
            raise PermissionDenied("You may not change this account.")


class OverrideViewSet(_AccountWriteMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = OverrideSerializer
    filterset_fields = ["account", "band"]
    ordering_fields = ["created_at", "expires_on"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.override_list()

    def can_write_object(self, request, obj):
        return policies.can_edit_account(request.user, obj.account)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account = data.pop("account")
        self._check_account(account)
        serializer.instance = services.override_create(account=account, user=self.request.user, **data)

    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        override: HealthOverride = self.get_object()
        services.override_end(override=override, user=request.user)
        return Response(self.get_serializer(override).data)


class SentimentViewSet(_AccountWriteMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SentimentSerializer
    filterset_fields = ["account", "sentiment"]
    ordering_fields = ["set_at"]
    ordering = ["-set_at"]

    def get_queryset(self):
        return selectors.sentiment_list()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account = data.pop("account")
        self._check_account(account)
        serializer.instance = services.sentiment_set(account=account, user=self.request.user, **data)
