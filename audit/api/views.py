"""``/api/v1/audit/``: the audit log for admins, with the page's filters (model, object, actor, action,
since, until)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from audit.api.serializers import AuditEntrySerializer
from audit.selectors import audit_entries
from csp.models import Role

FILTERS = [
    OpenApiParameter("model", OpenApiTypes.STR, description="app_label.model, e.g. accounts.account"),
    OpenApiParameter("object", OpenApiTypes.STR, description="primary key of the object"),
    OpenApiParameter("actor", OpenApiTypes.STR, description="user id or email"),
    OpenApiParameter("action", OpenApiTypes.STR, enum=["create", "update", "delete"]),
    OpenApiParameter("since", OpenApiTypes.DATE),
    OpenApiParameter("until", OpenApiTypes.DATE),
]


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditEntrySerializer
    read_roles = frozenset({Role.ADMIN})
    write_roles = frozenset({Role.ADMIN})
    filter_backends: list = []  # the selector applies the filters (one definition for page, CSV and API)

    def get_queryset(self):
        return audit_entries(params=self.request.query_params)
