"""Metrics endpoints: the revenue ledger's figures for any period and scope, the accounts behind each movement,
usage/support/onboarding rollups, and the monthly sales & marketing expense admins enter for CAC.

Filters (``start``, ``end`` or ``period``; ``segment``, ``team``, ``owner``, ``tier``) are validated by
``metrics.scope.parse_filters``: bad values 400, a team or owner outside the user's scope 403 (never emptied).
"""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from accounts.selectors import account_mrr_on
from csp.api.pagination import PageNumberPagination
from csp.api.permissions import ALL_ROLES
from csp.dbrouting import reads_from_replica
from csp.models import Role
from metrics import scope, services
from metrics.models import AcquisitionCost
from metrics.revenue import revenue_figures
from metrics.rollups import usage_rollup
from metrics.selectors import MOVEMENTS, movement_account_ids, revenue_summary

FILTER_PARAMS = ("start", "end", "period", "segment", "team", "owner", "tier")
# Documented so clients (and the schema fuzz test) know them; values are checked by scope.parse_filters.
FILTER_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (with end); else period."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (with start)."),
    OpenApiParameter("period", str, description="A named period, e.g. this_quarter (the default), last_month."),
    OpenApiParameter("segment", int, description="Only the accounts of this segment."),
    OpenApiParameter("team", int, description="Only the accounts of this team (403 outside your scope)."),
    OpenApiParameter("owner", int, description="Only the accounts this user owns (403 outside your scope)."),
    OpenApiParameter("tier", str, description="Only the accounts of this tier."),
]


def parse(request) -> scope.DashboardFilters:
    """The request's filters; ``owner`` is the dashboards' ``csm``."""
    params = {key: request.query_params.get(key, "") for key in FILTER_PARAMS}
    params["csm"] = params.pop("owner")
    return scope.parse_filters(request.user, params)


def _query(request, **extra: str) -> str:
    params = {k: request.query_params[k] for k in FILTER_PARAMS if request.query_params.get(k)}
    return urlencode(params | extra)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals as JSON strings (exact), dates as ISO, None as null.
    out = {}
    for key, value in data.items():
        if value is None or isinstance(value, bool | int | str | list | dict):
            out[key] = value
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


class RevenueView(APIView):
    """GET /api/v1/metrics/revenue/: every glossary revenue figure of the period for the filtered scope, with
    a drill-down link per movement (``accounts``)."""

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=FILTER_PARAMETERS)  # figures: docs/metrics.md
    @method_decorator(reads_from_replica)
    def get(self, request):
        flt = parse(request)
        accounts = flt.accounts()
        summary = revenue_summary(start=flt.start, end=flt.end, accounts=accounts, with_movements=False)
        data = summary | revenue_figures(summary=summary, accounts=accounts, today=flt.today)
        base = request.build_absolute_uri(reverse("metrics-api:revenue-accounts"))
        data["accounts"] = {m: f"{base}?{_query(request, movement=m)}" for m in MOVEMENTS}
        data["filters"] = {
            "team": flt.team.pk if flt.team else None,
            "owner": flt.csm.pk if flt.csm else None,
            "segment": flt.segment.pk if flt.segment else None,
            "tier": flt.tier or None,
        }
        return Response(_plain(data))


class RevenueAccountsView(APIView):
    """GET /api/v1/metrics/revenue/accounts/?movement=new|reactivation|expansion|contraction|churned: the accounts
    behind one movement of the period, with their MRR on its first and last day (paginated)."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,  # figures computed per request, documented in docs/metrics.md
        parameters=[
            OpenApiParameter("movement", str, required=True, enum=list(MOVEMENTS)),
            *FILTER_PARAMETERS,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
    )
    @method_decorator(reads_from_replica)
    def get(self, request):
        movement = request.query_params.get("movement", "")
        if movement not in MOVEMENTS:
            raise ValidationError({"movement": [f"One of: {', '.join(MOVEMENTS)}."]})
        flt = parse(request)
        ids = movement_account_ids(start=flt.start, end=flt.end, accounts=flt.accounts(), movement=movement)[movement]
        paginator = PageNumberPagination()
        qs = Account.objects.filter(pk__in=ids).select_related("owner").order_by("name", "id")
        page = paginator.paginate_queryset(qs, request, view=self)
        page_ids = [a.id for a in page]
        first = account_mrr_on(day=flt.start, accounts=page_ids)
        last = account_mrr_on(day=flt.end, accounts=page_ids)
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "owner": a.owner_id,
                "owner_name": str(a.owner) if a.owner else None,
                "tier": a.tier,
                "mrr_start": str(first.get(a.id, "0.00")),
                "mrr_end": str(last.get(a.id, "0.00")),
                "url": request.build_absolute_uri(reverse("accounts:detail", args=[a.id])),
            }
            for a in page
        ]
        return paginator.get_paginated_response(rows)


class UsageView(APIView):
    """GET /api/v1/metrics/usage/: usage (DAU, MAU, stickiness, adoption, license utilization, PES), support
    (resolution rate, response time) and onboarding (TTO, TTFV) rolled up to the filtered scope."""

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=FILTER_PARAMETERS)  # figures: docs/metrics.md
    @method_decorator(reads_from_replica)
    def get(self, request):
        flt = parse(request)
        return Response(usage_rollup(start=flt.start, end=flt.end, accounts=flt.accounts()))


class AcquisitionCostSerializer(serializers.ModelSerializer):
    entered_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = AcquisitionCost
        fields = ["id", "month", "sales_marketing_expense", "note", "entered_by", "updated_at"]
        read_only_fields = ["entered_by", "updated_at"]

    def validate_month(self, value):
        if value.day != 1:
            raise serializers.ValidationError("Give the first day of the month.")
        return value


class AcquisitionCostViewSet(viewsets.ModelViewSet):
    """Monthly sales & marketing expense for CAC: everyone reads, admins write."""

    serializer_class = AcquisitionCostSerializer
    queryset = AcquisitionCost.objects.select_related("entered_by")
    read_roles = ALL_ROLES
    write_roles = frozenset({Role.ADMIN})

    def perform_create(self, serializer):
        serializer.instance = services.acquisition_cost_save(data=serializer.validated_data, user=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.acquisition_cost_save(
            data=serializer.validated_data, user=self.request.user, instance=serializer.instance
        )
