"""Triggers endpoints (admins only): CRUD, dry run, activate/pause, execution log."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csp.models import Role
from triggers import selectors, services
from triggers.api.serializers import (
    CandidateSerializer,
    ExecutionSerializer,
    TriggerSerializer,
)

ADMIN_ONLY = frozenset({Role.ADMIN})


class TriggerViewSet(viewsets.ModelViewSet):
    serializer_class = TriggerSerializer
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "last_run_at"]
    ordering = ["name"]
    filterset_fields = ["is_active", "condition_type"]

    def get_queryset(self):
        return selectors.trigger_list()

    def perform_create(self, serializer):
        serializer.instance = services.trigger_create(data=dict(serializer.validated_data), user=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.trigger_update(trigger=serializer.instance, data=dict(serializer.validated_data))

    def perform_destroy(self, instance):
        services.trigger_delete(trigger=instance)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "TriggerDryRun",
            {
                "fire": CandidateSerializer(many=True),
                "skipped": inline_serializer(
                    "TriggerSkipped",
                    {
                        "account": serializers.IntegerField(),
                        "account_name": serializers.CharField(),
                        "reason": serializers.CharField(),
                        "why": serializers.CharField(),
                    },
                    many=True,
                ),
                "note": serializers.CharField(allow_blank=True, allow_null=True),
            },
        ),
    )
    @action(detail=True, methods=["get"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """Who would fire now, and who is held back by dedupe or cool-down; no side effects."""
        ev = selectors.evaluate(self.get_object())
        return Response(
            {
                "fire": CandidateSerializer(ev.fire, many=True).data,
                "skipped": [dict(CandidateSerializer(c).data, why=why) for c, why in ev.skipped],
                "note": ev.note,
            }
        )

    @extend_schema(request=None, responses=TriggerSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        trigger = services.trigger_set_active(trigger=self.get_object(), active=True)
        return Response(TriggerSerializer(trigger).data)

    @extend_schema(request=None, responses=TriggerSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        trigger = services.trigger_set_active(trigger=self.get_object(), active=False)
        return Response(TriggerSerializer(trigger).data)

    @extend_schema(responses=ExecutionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def executions(self, request, pk=None):
        """The execution log of this trigger, newest first, with each action's outcome."""
        page = self.paginate_queryset(selectors.execution_list(trigger=self.get_object()))
        return self.get_paginated_response(ExecutionSerializer(page, many=True).data)
