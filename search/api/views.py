"""``GET /api/v1/search/?q=``: the global search as JSON, best hits first across kinds."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import SCOPES
from search import selectors

API_LIMIT = 20

HitSerializer = inline_serializer(
    "SearchHit",
    {
        "kind": serializers.ChoiceField(choices=[k for k, _ in selectors.KINDS]),
        "id": serializers.IntegerField(),
        "title": serializers.CharField(),
        "subtitle": serializers.CharField(),
        "url": serializers.CharField(),
        "score": serializers.FloatField(),
    },
    many=True,
)


class SearchView(APIView):
    """Every role searches; results are limited to the caller's book (``scope``, default their own)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="At least 2, at most 200 characters."),
            OpenApiParameter("scope", str, enum=list(SCOPES), description="Default: the caller's own book."),
            OpenApiParameter("limit", int, description=f"Hits per kind, 1-{API_LIMIT} (default 10)."),
        ],
        responses=inline_serializer(
            "SearchResults",
            {"query": serializers.CharField(), "count": serializers.IntegerField(), "results": HitSerializer},
        ),
    )
    def get(self, request):
        q = request.query_params.get("q", "")
        scope = request.query_params.get("scope") or None
        errors = {}
        if scope not in (None, *SCOPES):
            errors["scope"] = [f"One of {', '.join(SCOPES)}."]
        try:
            limit = int(request.query_params.get("limit", 10))
            if not 1 <= limit <= API_LIMIT:
                raise ValueError
        except ValueError:
            errors["limit"] = [f"A number from 1 to {API_LIMIT}."]
            limit = 10
        if len(q.strip()) < selectors.MIN_LENGTH:
            errors["q"] = [f"Search for at least {selectors.MIN_LENGTH} characters."]
        try:
            found = selectors.global_search(user=request.user, q=q, scope=scope, limit=limit)
        except selectors.QueryError as exc:
            errors["q"] = [str(exc)]
            found = {}
        if errors:
            raise ValidationError(errors)
        hits = selectors.flat(found)
        results = [
            {"kind": h.kind, "id": h.id, "title": h.title, "subtitle": h.subtitle,
             "url": request.build_absolute_uri(h.url), "score": round(h.score, 4)}
            for h in hits
        ]  # fmt: skip
        return Response({"query": q.strip(), "count": len(hits), "results": results})
