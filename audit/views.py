"""The audit log page and its CSV export: admins only."""

import csv

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit import selectors
from csp.dbrouting import reads_from_replica
from csp.decorators import role_required
from csp.models import Role

CSV_HEADER = ["timestamp", "actor", "action", "model", "object_id", "object", "field", "old", "new", "remote_addr"]


@role_required(Role.ADMIN)
def audit_log(request):
    entries = selectors.audit_entries(params=request.GET)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = [(entry, selectors.entry_changes(entry)) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "rows": rows,
            "models": selectors.model_choices(),
            "actions": list(selectors.ACTIONS),
            "filters": request.GET,
            "query": query.urlencode(),
        },
    )


class _Echo:
    def write(self, value):
        return value


def _csv_rows(entries):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for entry in entries.iterator(chunk_size=2000):
        base = [
            timezone.localtime(entry.timestamp).isoformat(),
            entry.actor.email if entry.actor else "",
            entry.get_action_display(),
            f"{entry.content_type.app_label}.{entry.content_type.model}",
            entry.object_pk,
            entry.object_repr,
        ]
        changes = selectors.entry_changes(entry)
        if not changes:
            yield writer.writerow([*base, "", "", "", entry.remote_addr or ""])
        for field, values in changes.items():
            old, new = [*values, None, None][:2] if isinstance(values, list) else (None, values)
            yield writer.writerow([*base, field, old, new, entry.remote_addr or ""])


@role_required(Role.ADMIN)
@reads_from_replica
def audit_export(request):
    """One CSV row per changed field, with the page's filters; streamed, so a large log does not fill memory."""
    entries = selectors.audit_entries(params=request.GET)
    response = StreamingHttpResponse(_csv_rows(entries), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
