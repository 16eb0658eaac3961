from rest_framework import serializers

from accounts.models import Tier
from health.measures import MEASURES
from health.models import (
    AccountHealth,
    Band,
    Direction,
    HealthOverride,
    HealthSnapshot,
    Interpolation,
    Measure,
    Scorecard,
    SentimentPulse,
)
from health.scoring import expand


class MeasureSerializer(serializers.ModelSerializer):
    key = serializers.ChoiceField(choices=sorted(MEASURES))
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    interpolation = serializers.ChoiceField(choices=Interpolation.choices, required=False)
    breakpoints = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()), required=False)

    class Meta:
        model = Measure
        fields = ["key", "group", "weight", "direction", "interpolation", "breakpoints"]
        read_only_fields = ["group"]


class ScorecardSerializer(serializers.ModelSerializer):
    tiers = serializers.ListField(child=serializers.ChoiceField(choices=Tier.choices), required=False)
    # Declared so DRF adds no "unique" validator from the one-default constraint: the service moves the flag.
    is_default = serializers.BooleanField(required=False)
    measures = MeasureSerializer(many=True, required=False)

    class Meta:
        model = Scorecard
        fields = [
            "id", "name", "description", "is_default", "segments", "tiers", "yellow_from", "green_from",
            "missing_policy", "measures", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class CurrentHealthSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    scorecard_name = serializers.CharField(source="scorecard.name", read_only=True, allow_null=True)
    shown_band = serializers.CharField(read_only=True)
    override = serializers.SerializerMethodField()

    class Meta:
        model = AccountHealth
        fields = [
            "account", "account_name", "scorecard", "scorecard_name", "score", "band", "shown_band", "previous_score",
            "previous_band", "trend", "computed_at", "changed_at", "override",
        ]  # fmt: skip

    def get_override(self, obj) -> dict | None:
        o = obj.active_override
        if o is None:
            return None
        return {
            "id": o.id,
            "band": o.band,
            "reason": o.reason,
            "expires_on": o.expires_on,
            "created_by": o.created_by_id,
        }


class SnapshotSerializer(serializers.ModelSerializer):
    breakdown = serializers.SerializerMethodField()

    class Meta:
        model = HealthSnapshot
        fields = ["id", "account", "scorecard", "computed_at", "as_of", "score", "band", "breakdown", "source"]

    def get_breakdown(self, obj) -> dict:
        """Measure key → value, points, weight, contribution and missing (stored compactly as lists)."""
        return {key: expand(entry) for key, entry in obj.breakdown.items()}


class OverrideSerializer(serializers.ModelSerializer):
    band = serializers.ChoiceField(choices=Band.choices)
    replace = serializers.BooleanField(write_only=True, required=False, default=False)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = HealthOverride
        fields = [
            "id", "account", "band", "reason", "expires_on", "replace", "created_by", "created_at", "ended_at",
            "ended_by", "is_active",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at", "ended_at", "ended_by"]

    def get_is_active(self, obj) -> bool:
        from django.utils import timezone

        return obj.is_active_on(timezone.localdate())


class SentimentSerializer(serializers.ModelSerializer):
    sentiment = serializers.ChoiceField(choices=Band.choices)

    class Meta:
        model = SentimentPulse
        fields = ["id", "account", "sentiment", "note", "set_by", "set_at"]
        read_only_fields = ["set_by", "set_at"]
