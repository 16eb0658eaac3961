from rest_framework import serializers

from accounts.models import Contact
from csp.models import User
from timeline.models import Activity, Sentiment, TimelineEntry


class ActivitySerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, allow_null=True)
    attendee_contacts = serializers.PrimaryKeyRelatedField(many=True, queryset=Contact.objects.all(), required=False)
    attendee_users = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.all(), required=False)
    sentiment = serializers.ChoiceField(
        choices=Sentiment.choices, required=False, allow_blank=True, help_text="Empty or omitted: VADER's suggestion."
    )

    class Meta:
        model = Activity
        fields = [
            "id", "account", "kind", "occurred_at", "subject", "summary", "next_steps", "sentiment",
            "suggested_sentiment", "sentiment_score", "attendee_contacts", "attendee_users", "author", "author_name",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["author", "suggested_sentiment", "sentiment_score", "created_at", "updated_at"]
        extra_kwargs = {"occurred_at": {"required": False}}


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.full_name", read_only=True, allow_null=True)
    activity = ActivitySerializer(read_only=True)

    class Meta:
        model = TimelineEntry
        fields = [
            "id", "account", "kind", "occurred_at", "title", "body", "actor", "actor_name", "source_type",
            "source_id", "data", "activity", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class SentimentRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000)
