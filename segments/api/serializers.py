from rest_framework import serializers

from segments.models import Segment
from segments.rules import describe_rules


class SegmentSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = [
            "id", "name", "description", "rules", "summary", "member_count", "members_refreshed_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["member_count", "members_refreshed_at", "created_at", "updated_at"]
        # Uniqueness and rules are checked by the service's full_clean, with a field-named 400.
        validators: list = []
        extra_kwargs = {"name": {"validators": []}}

    def get_summary(self, obj) -> str:
        return describe_rules(obj.rules or {"op": "and", "conditions": []})


class RulesSerializer(serializers.Serializer):
    rules = serializers.JSONField()


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    owner_name = serializers.CharField(source="owner.full_name", allow_null=True)
    arr = serializers.DecimalField(max_digits=14, decimal_places=2)
