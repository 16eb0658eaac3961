"""Export / erase one person from the UI (buttons on the account's contacts, admins only) and the API."""

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Contact
from audit import privacy
from csp.decorators import role_required
from csp.models import Role

ADMINS = frozenset({Role.ADMIN})


def _download(contact: Contact, data: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-export.json"'
    return response


@role_required(Role.ADMIN)
def contact_export(request, pk: int):
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
    return _download(contact, privacy.person_export(contact=contact))


@role_required(Role.ADMIN)
def contact_erase(request, pk: int):
    """GET asks for confirmation; POST erases."""
    contact = get_object_or_404(Contact, pk=pk)
    if request.method != "POST":
        return render(request, "audit/contact_erase.html", {"contact": contact})
    account_id = contact.account_id
    counts = privacy.person_erase(contact=contact)
    messages.success(
        request,
        f"The contact was erased: {counts['events']} events deleted, {counts['timeline_mentions']} timeline "
        "entries cleaned. The audit log records the erasure.",
    )
    return redirect("accounts:detail", pk=account_id)


class ContactExportAPI(APIView):
    """``GET /api/v1/privacy/contacts/{id}/export/``: everything held about the person (admins)."""

    read_roles = ADMINS
    write_roles = ADMINS

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
        return Response(privacy.person_export(contact=contact))


class ContactEraseAPI(APIView):
    """``POST /api/v1/privacy/contacts/{id}/erase/``: erase the person; returns what was removed (admins)."""

    read_roles = ADMINS
    write_roles = ADMINS

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        contact = get_object_or_404(Contact, pk=pk)
        return Response({"erased": True, **privacy.person_erase(contact=contact)})
