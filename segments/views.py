"""Admin pages for segments: list, rule builder with a live preview (htmx), delete."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from csp.decorators import role_required
from csp.models import Role, Team
from csp.selectors import assignable_owners
from segments import selectors, services
from segments.forms import SegmentForm, parse_rules
from segments.models import Segment
from segments.rules import describe_rules, field_catalog


@role_required(Role.ADMIN)
def segment_list(request):
    segments = list(selectors.segment_list())
    for segment in segments:
        segment.summary = describe_rules(segment.rules or {"op": "and", "conditions": []})
    return render(request, "segments/segment_list.html", {"segments": segments})


def _builder_context() -> dict:
    return {
        "catalog": field_catalog(),
        "owners": [{"value": u.id, "label": str(u)} for u in assignable_owners()],
        "teams": [{"value": t.id, "label": t.name} for t in Team.objects.order_by("name")],
    }


@role_required(Role.ADMIN)
def segment_edit(request, pk: int | None = None):
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    initial = (
        {"name": segment.name, "description": segment.description, "rules": json.dumps(segment.rules)}
        if segment
        else {"rules": json.dumps({"op": "and", "conditions": []})}
    )
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if segment is None:
                segment = services.segment_create(data=form.cleaned_data, user=request.user)
            else:
                segment = services.segment_update(segment=segment, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved segment {segment.name} ({segment.member_count} accounts).")
            return redirect("segments:list")
    context = {"form": form, "segment": segment, "builder": _builder_context()}
    return render(request, "segments/segment_form.html", context)


@role_required(Role.ADMIN)
@require_POST
def segment_preview(request):
    """htmx: the live count and first members of the draft rules in the form (nothing is saved)."""
    try:
        preview = selectors.rules_preview(parse_rules(request.POST.get("rules", "")))
    except ValidationError as exc:
        return render(request, "segments/_preview.html", {"errors": exc.messages})
    return render(request, "segments/_preview.html", preview)


@role_required(Role.ADMIN)
@require_POST
def segment_delete(request, pk: int):
    segment = get_object_or_404(Segment, pk=pk)
    try:
        services.segment_delete(segment=segment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("segments:edit", pk=pk)
    messages.success(request, f"Deleted segment {segment.name}.")
    return redirect("segments:list")
