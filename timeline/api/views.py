"""Activities (read and write) and the timeline feed (read). Writes go through services and account policies."""

from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import policies
from csp.api.permissions import ALL_ROLES
from csp.roles import WRITE_ROLES
from timeline import selectors, services
from timeline.api.serializers import ActivitySerializer, SentimentRequestSerializer, TimelineEntrySerializer
from timeline.filters import ActivityFilter, TimelineEntryFilter
from timeline.sentiment import sentiment_suggest


class ActivityViewSet(viewsets.ModelViewSet):
    serializer_class = ActivitySerializer
    write_roles = WRITE_ROLES
    filterset_class = ActivityFilter
    search_fields = ["subject", "summary", "next_steps"]
    ordering_fields = ["occurred_at", "created_at"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        return selectors.activity_list()

    def can_write_object(self, request, obj):
        return policies.can_edit_account(request.user, obj.account)

    @staticmethod
    def _split(data):
        data = dict(data)
        return data, data.pop("attendee_contacts", None), data.pop("attendee_users", None)

    def perform_create(self, serializer):
        data, contacts, users = self._split(serializer.validated_data)
        account = data.pop("account")
        if not policies.can_edit_account(self.request.user, account):
            raise PermissionDenied("You may not log activities on this account.")
        activity = services.activity_create(
            account=account, author=self.request.user, data=data, contacts=contacts, users=users
        )
        serializer.instance = selectors.activity_list().get(pk=activity.pk)

    def perform_update(self, serializer):
        data, contacts, users = self._split(serializer.validated_data)
        if "account" in data and data.pop("account") != serializer.instance.account:
            raise PermissionDenied("An activity cannot be moved to another account.")
        activity = services.activity_update(activity=serializer.instance, data=data, contacts=contacts, users=users)
        serializer.instance = selectors.activity_list().get(pk=activity.pk)

    def perform_destroy(self, instance):
        services.activity_delete(activity=instance)

    @action(detail=False, methods=["post"], url_path="suggest-sentiment", write_roles=ALL_ROLES)
    def suggest_sentiment(self, request):
        """VADER's sentiment for a text: ``{"sentiment": "positive", "score": 0.71}``. Stores nothing."""
        body = SentimentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        label, score = sentiment_suggest(body.validated_data["text"])
        return Response({"sentiment": label, "score": score})


class TimelineEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The unified feed, newest first. Filter by ``account`` and ``kind`` (repeatable)."""

    serializer_class = TimelineEntrySerializer
    filterset_class = TimelineEntryFilter
    search_fields = ["title", "body"]
    ordering_fields = ["occurred_at"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        return selectors.timeline_feed()
