import django_filters

from success.models import Milestone, Objective, PlanTask, SuccessPlan


class SuccessPlanFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = SuccessPlan
        fields = ["account", "owner", "status", "template"]


class ObjectiveFilter(django_filters.FilterSet):
    class Meta:
        model = Objective
        fields = ["plan", "status"]


class MilestoneFilter(django_filters.FilterSet):
    class Meta:
        model = Milestone
        fields = ["plan", "kind"]


class PlanTaskFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = PlanTask
        fields = ["plan", "owner", "done"]
