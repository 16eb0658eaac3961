"""Segments endpoints: CRUD (admins write, every role reads), members, draft-rules preview and the field whitelist."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csp.models import Role
from segments import selectors, services
from segments.api.serializers import MemberSerializer, RulesSerializer, SegmentSerializer
from segments.rules import field_catalog

ADMIN_ONLY = frozenset({Role.ADMIN})


class SegmentViewSet(viewsets.ModelViewSet):
    serializer_class = SegmentSerializer
    write_roles = ADMIN_ONLY
    search_fields = ["name", "description"]
    ordering_fields = ["name", "member_count", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.segment_list()

    def perform_create(self, serializer):
        serializer.instance = services.segment_create(data=dict(serializer.validated_data), user=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.segment_update(segment=serializer.instance, data=dict(serializer.validated_data))

    def perform_destroy(self, instance):
        services.segment_delete(segment=instance)

    @extend_schema(responses=MemberSerializer(many=True))
    @action(detail=True, methods=["get"])
    def accounts(self, request, pk=None):
        """The segment's members right now (live), paginated."""
        qs = selectors.segment_accounts(self.get_object()).select_related("owner").order_by("name", "id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        request=RulesSerializer,
        responses=inline_serializer(
            "SegmentPreview", {"count": serializers.IntegerField(), "accounts": MemberSerializer(many=True)}
        ),
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Count and first 20 members of draft rules; nothing is saved. 400 names a field outside the whitelist."""
        body = RulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        preview = selectors.rules_preview(body.validated_data["rules"])
        return Response({"count": preview["count"], "accounts": MemberSerializer(preview["accounts"], many=True).data})

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    @action(detail=False, methods=["get"])
    def fields(self, request):
        """The whitelist: fields, their operators and choices."""
        return Response(field_catalog())
