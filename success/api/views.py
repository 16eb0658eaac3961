"""Success plans with their objectives, milestones and tasks; plan templates (admins write)."""

from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied

from accounts import policies
from csp.models import Role
from success import selectors, services
from success.api.serializers import (
    MilestoneSerializer,
    ObjectiveSerializer,
    PlanTaskSerializer,
    PlanTemplateSerializer,
    SuccessPlanSerializer,
)
from success.filters import MilestoneFilter, ObjectiveFilter, PlanTaskFilter, SuccessPlanFilter
from success.models import Milestone, Objective, PlanTask, PlanTemplate


class PlanTemplateViewSet(viewsets.ModelViewSet):
    serializer_class = PlanTemplateSerializer
    write_roles = frozenset({Role.ADMIN})
    filterset_fields = ["tier", "lifecycle_stage", "is_active"]
    search_fields = ["name"]
    ordering = ["name"]
    queryset = PlanTemplate.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.template_create(data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = services.template_update(
            template=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.template_delete(template=instance)


class SuccessPlanViewSet(viewsets.ModelViewSet):
    serializer_class = SuccessPlanSerializer
    filterset_class = SuccessPlanFilter
    search_fields = ["name"]
    ordering_fields = ["created_at", "start_date", "name"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.plan_list()

    def can_write_object(self, request, plan):
        return policies.can_edit_account(request.user, plan.account)

    def _reload(self, serializer, plan):
        serializer.instance = selectors.plan_list().get(pk=plan.pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account, template = data.pop("account"), data.pop("template", None)
        if not policies.can_edit_account(self.request.user, account):
            raise PermissionDenied("You may not change this account's plans.")
        self._reload(serializer, services.plan_create(account=account, data=data, template=template))

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("template", None)
        if "account" in data and data.pop("account") != serializer.instance.account:
            raise PermissionDenied("A plan cannot be moved to another account.")
        self._reload(serializer, services.plan_update(plan=serializer.instance, data=data))

    def perform_destroy(self, instance):
        services.plan_delete(plan=instance)


class _PlanItemViewSet(viewsets.ModelViewSet):
    """Objectives, milestones and tasks: writable by whoever may edit the plan's account."""

    model = None

    def get_queryset(self):
        return self.model.objects.select_related("plan__account")

    def can_write_object(self, request, obj):
        return policies.can_edit_account(request.user, obj.plan.account)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        plan = data.pop("plan")
        if not policies.can_edit_account(self.request.user, plan.account):
            raise PermissionDenied("You may not change this account's plans.")
        serializer.instance = services.plan_item_create(plan=plan, model=self.model, data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "plan" in data and data.pop("plan") != serializer.instance.plan:
            raise PermissionDenied("An item cannot be moved to another plan.")
        serializer.instance = services.plan_item_update(item=serializer.instance, data=data)

    def perform_destroy(self, instance):
        services.plan_item_delete(item=instance)


class ObjectiveViewSet(_PlanItemViewSet):
    model = Objective
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter
    ordering = ["position", "id"]


class MilestoneViewSet(_PlanItemViewSet):
    model = Milestone
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering = ["position", "planned_date", "id"]


class PlanTaskViewSet(_PlanItemViewSet):
    model = PlanTask
    serializer_class = PlanTaskSerializer
    filterset_class = PlanTaskFilter
    ordering_fields = ["due_date"]
    ordering = ["done", "due_date", "id"]

    def get_queryset(self):
        return super().get_queryset().select_related("owner")
