from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import ContactRole
from surveys.models import Response, Survey, SurveyBatch
from surveys.services import survey_save


class SurveySerializer(serializers.ModelSerializer):
    contact_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ContactRole.choices), required=False, allow_empty=True
    )
    question_text = serializers.CharField(read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id", "name", "kind", "question", "question_text", "followup_question", "followup_low", "followup_mid",
            "followup_high", "mode", "schedule", "next_run_on", "segment", "contact_roles", "throttle_days",
            "reminder_after_days", "is_active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def _save(self, instance: Survey, data: dict) -> Survey:
        for key, value in data.items():
            setattr(instance, key, value)
        try:
            return survey_save(survey=instance, user=self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc

    def create(self, validated_data):
        return self._save(Survey(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class ResponseSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = Response
        fields = [
            "id", "survey", "account", "account_name", "contact", "contact_name", "kind", "score", "band",
            "nps_category", "comment", "sentiment", "sentiment_score", "channel", "completed", "answered_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class BatchSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)

    class Meta:
        model = SurveyBatch
        fields = ["id", "purpose", "status", "total", "sent", "failed", "skipped", "progress", "source",
                  "created_at", "started_at", "finished_at"]  # fmt: skip
        read_only_fields = fields
