from rest_framework import serializers

from triggers.models import Trigger, TriggerActionLog, TriggerExecution


class TriggerSerializer(serializers.ModelSerializer):
    fired_30d = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Trigger
        fields = [
            "id", "name", "description", "is_active", "condition_type", "params", "condition_segment",
            "scope_segment", "open_cta", "cta_type", "cta_priority", "cta_reason", "cta_playbook", "cta_title",
            "cta_due_in_days", "notify_owner", "notify_email", "webhook_url", "set_lifecycle_stage", "send_survey",
            "cooldown_days", "fired_30d", "last_run_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["is_active", "last_run_at", "created_at", "updated_at"]
        # Uniqueness and params are checked by the service's full_clean, with a field-named 400.
        validators: list = []
        extra_kwargs = {"name": {"validators": []}}


class ActionLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerActionLog
        fields = ["kind", "status", "detail", "attempts", "updated_at"]


class ExecutionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    actions = ActionLogSerializer(many=True, read_only=True)

    class Meta:
        model = TriggerExecution
        fields = ["id", "trigger", "account", "account_name", "fired_at", "reason", "actions"]


class CandidateSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField()
    reason = serializers.CharField()
