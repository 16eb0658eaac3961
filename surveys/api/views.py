"""Survey endpoints: surveys (admins write, every role reads), their results and answers within the caller's
scope, and the answers list. Writes go through ``surveys.services``."""

from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response as ApiResponse

from csp.models import Role
from segments.models import Segment
from surveys import selectors, services
from surveys.api.serializers import BatchSerializer, ResponseSerializer, SurveySerializer
from surveys.models import Response, Survey

ADMIN_ONLY = frozenset({Role.ADMIN})


class ResultQuery(serializers.Serializer):
    account = serializers.IntegerField(required=False)
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), required=False)
    owner = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class SurveyViewSet(viewsets.ModelViewSet):
    """Surveys. ``GET /surveys/{id}/results/`` score, distribution, trend, response rate, themes, latest comments
    (filters account, segment, owner, team, start, end); ``GET /surveys/{id}/responses/`` its answers;
    ``POST /surveys/{id}/send/`` starts a sending job (admins)."""

    serializer_class = SurveySerializer
    write_roles = ADMIN_ONLY
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["kind", "mode", "is_active"]

    def get_queryset(self):
        return Survey.objects.order_by("name", "id")

    @extend_schema(parameters=[ResultQuery], responses={200: dict})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        survey = self.get_object()
        query = ResultQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        d = query.validated_data
        flt = selectors.ResultFilter(
            account_id=d.get("account"), segment=d.get("segment"), owner_id=d.get("owner"), team_id=d.get("team"),
            start=d.get("start"), end=d.get("end"),
        )  # fmt: skip
        results = selectors.survey_results(user=request.user, survey=survey, flt=flt, comments_limit=20)
        results["comments"] = ResponseSerializer(results["comments"], many=True).data
        results["themes"] = [{"theme": t, "count": n} for t, n in results["themes"]]
        return ApiResponse({"survey": survey.pk, **results})

    @extend_schema(responses={200: ResponseSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def responses(self, request, pk=None):
        survey = self.get_object()
        qs = (
            selectors.responses_visible(request.user)
            .filter(survey=survey)
            .select_related("account", "contact")
            .order_by("-answered_at", "-id")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ResponseSerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: BatchSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        survey = self.get_object()
        try:
            batch = services.survey_batch_create(survey=survey, user=request.user, source="api")
        except ValidationError as exc:
            raise ApiValidationError({"survey": exc.messages}) from exc
        return ApiResponse(BatchSerializer(batch).data, status=201)


class SurveyResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Every survey answer the caller may see (filters survey, account, kind, nps_category, band)."""

    serializer_class = ResponseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["survey", "account", "contact", "kind", "nps_category", "band"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Response.objects.none()
        return (
            selectors.responses_visible(self.request.user)
            .select_related("account", "contact")
            .order_by("-answered_at", "-id")
        )
