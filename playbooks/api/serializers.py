from rest_framework import serializers

from csp.models import User
from playbooks.models import CTA, CTAComment, CTAOutcome, CTAReason, CTATask, Playbook, PlaybookTask


class CTATaskSerializer(serializers.ModelSerializer):
    assignee_name = serializers.CharField(source="assignee.full_name", read_only=True, allow_null=True)
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = CTATask
        fields = [
            "id", "cta", "position", "title", "task_type", "guidance", "due_date", "assignee", "assignee_name",
            "done", "completed_at", "completed_by",
        ]  # fmt: skip
        read_only_fields = fields


class CTACommentSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, allow_null=True)

    class Meta:
        model = CTAComment
        fields = ["id", "cta", "author", "author_name", "body", "created_at"]
        read_only_fields = ["author", "created_at"]


class CTASerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner_name = serializers.CharField(source="owner.full_name", read_only=True, allow_null=True)
    reason_name = serializers.CharField(source="reason.name", read_only=True, allow_null=True)
    tasks = CTATaskSerializer(many=True, read_only=True)
    type = serializers.CharField(source="cta_type", read_only=True)

    class Meta:
        model = CTA
        fields = [
            "id", "account", "account_name", "type", "priority", "reason", "reason_name", "title", "description",
            "due_date", "owner", "owner_name", "status", "snoozed_until", "outcome", "outcome_note", "opened_at",
            "closed_at", "closed_by", "source", "source_key", "playbook", "tasks", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CTACreateSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=CTA._meta.get_field("account").related_model.objects.all())
    type = serializers.ChoiceField(choices=CTA._meta.get_field("cta_type").choices)
    priority = serializers.ChoiceField(choices=CTA._meta.get_field("priority").choices, default="medium")
    reason = serializers.PrimaryKeyRelatedField(queryset=CTAReason.objects.all(), required=False, allow_null=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    playbook = serializers.PrimaryKeyRelatedField(queryset=Playbook.objects.all(), required=False, allow_null=True)


class CTAUpdateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CTA._meta.get_field("cta_type").choices, source="cta_type", required=False)
    priority = serializers.ChoiceField(choices=CTA._meta.get_field("priority").choices, required=False)
    reason = serializers.PrimaryKeyRelatedField(queryset=CTAReason.objects.all(), required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    due_date = serializers.DateField(required=False)


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(allow_null=True, help_text="null wakes the CTA now")


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CTAOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TickSerializer(serializers.Serializer):
    done = serializers.BooleanField()


class ReassignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())


class PlaybookTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookTask
        fields = ["id", "position", "title", "task_type", "guidance", "due_in_days", "assignee_role"]
        read_only_fields = ["id", "position"]


class PlaybookSerializer(serializers.ModelSerializer):
    tasks = PlaybookTaskSerializer(many=True, required=False)
    cta_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Playbook
        fields = [
            "id",
            "name",
            "description",
            "cta_type",
            "is_active",
            "tasks",
            "cta_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # uniqueness: the service's full_clean answers with a field-named 400


class CTAReasonSerializer(serializers.ModelSerializer):
    cta_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = CTAReason
        fields = ["id", "name", "cta_type", "is_active", "cta_count", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []
