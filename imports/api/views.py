"""/api/v1/imports/: upload (starts the dry run), status and progress, row results, start. Admins only."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from csp.api.parsers import JSONParser
from csp.models import Role
from imports import services
from imports.api.serializers import ImportJobSerializer, ImportRowSerializer, ImportUploadSerializer
from imports.models import ImportJob, RowAction

ADMIN = frozenset({Role.ADMIN})


class ImportJobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ImportJobSerializer
    read_roles = ADMIN
    write_roles = ADMIN
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        qs = ImportJob.objects.all()
        return qs.defer("content") if self.action == "rows" else qs.defer("content", "results")

    def create(self, request, *args, **kwargs):
        """Upload a CSV (multipart: ``kind``, ``file``, ``all_or_nothing``); the dry run starts at once.
        Poll the job until ``status`` is ``validated``, read ``rows/``, then POST ``start/``."""
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        job = services.import_job_create(
            kind=data["kind"], filename=data["file"].name, raw=data["file"].read(), created_by=request.user,
            all_or_nothing=data["all_or_nothing"],
        )  # fmt: skip
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("action", str, enum=list(RowAction.values), description="Only these rows.")],
        responses=ImportRowSerializer(many=True),  # paginated by the view's paginator, like a list
    )
    @action(detail=True, methods=["get"])
    def rows(self, request, pk=None):
        """The last pass's outcome per row, ``?action=reject`` to see only rejected rows; paginated."""
        job = self.get_object()
        wanted = request.query_params.get("action")
        if wanted and wanted not in RowAction.values:
            return Response(
                {"code": "invalid", "message": "Invalid input. action: unknown action",
                 "fields": {"action": [f"Choose one of {', '.join(RowAction.values)}."]}},
                status=status.HTTP_400_BAD_REQUEST,
            )  # fmt: skip
        rows = [
            {"line": r[0], "action": r[1], "key": r[2], "reason": r[3]}
            for r in job.results
            if not wanted or r[1] == wanted
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ImportRowSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def start(self, request, pk=None):
        """Run the import as a background task; 202 with the job, then poll it for progress."""
        job = services.import_start(job=self.get_object())
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
