"""Notifications endpoints: the caller's own, any role."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csp.api.permissions import ALL_ROLES
from notifications import selectors, services
from notifications.api.serializers import MarkReadSerializer, NotificationSerializer


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications; any role may read them and mark them read."""

    serializer_class = NotificationSerializer
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES
    filterset_fields: list[str] = []
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("MarkReadResult", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = services.notifications_mark_read(user=request.user, ids=body.validated_data.get("ids"))
        return Response({"marked": count})

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": selectors.unread_count(user=request.user)})
