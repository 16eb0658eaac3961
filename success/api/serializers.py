from rest_framework import serializers

from success.models import Milestone, Objective, PlanTask, PlanTemplate, SuccessPlan
from success.selectors import plan_metrics


class PlanTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTemplate
        fields = ["id", "name", "description", "tier", "lifecycle_stage", "items", "is_active", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # name uniqueness is checked by the service's full_clean, as a field-named 400


class ObjectiveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objective
        fields = ["id", "plan", "title", "success_criteria", "target_date", "status", "position"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "plan", "kind", "name", "planned_date", "actual_date", "position"]
        validators: list = []


class PlanTaskSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.full_name", read_only=True, allow_null=True)

    class Meta:
        model = PlanTask
        fields = ["id", "plan", "title", "owner", "owner_name", "due_date", "done", "completed_at", "position"]
        read_only_fields = ["completed_at"]


class SuccessPlanSerializer(serializers.ModelSerializer):
    objectives = ObjectiveSerializer(many=True, read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)
    tasks = PlanTaskSerializer(many=True, read_only=True)
    metrics = serializers.SerializerMethodField()
    template = serializers.PrimaryKeyRelatedField(queryset=PlanTemplate.objects.all(), required=False, allow_null=True)
    start_date = serializers.DateField(required=False)
    name = serializers.CharField(max_length=200, required=False)

    class Meta:
        model = SuccessPlan
        fields = [
            "id", "account", "name", "description", "template", "contract", "start_date", "status", "owner",
            "metrics", "objectives", "milestones", "tasks", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def get_metrics(self, plan) -> dict:
        m = plan_metrics(plan)
        return {
            "contract_start": m.contract_start, "go_live": m.go_live, "first_value": m.first_value,
            "tto_days": m.tto_days, "ttfv_days": m.ttfv_days, "objectives_achieved": m.objectives_achieved,
            "objectives_total": m.objectives_total, "tasks_done": m.tasks_done, "tasks_total": m.tasks_total,
            "tasks_overdue": m.tasks_overdue, "warning": m.warning,
        }  # fmt: skip

    def validate(self, attrs):
        if self.instance is None and not attrs.get("name") and not attrs.get("template"):
            raise serializers.ValidationError({"name": "Name the plan or pick a template."})
        return attrs
