"""Import pages (admins): upload, dry run, start, progress. CSV exports (every role): accounts, timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.filters import AccountFilter
from accounts.models import Account
from csp.dbrouting import reads_from_replica
from csp.decorators import role_required
from csp.models import Role
from imports import exports, services
from imports.columns import COLUMNS, REQUIRED
from imports.forms import UploadForm
from imports.models import ImportJob, RowAction
from timeline.models import EntryKind
from timeline.selectors import timeline_feed

RESULTS_PAGE_SIZE = 100
# The list and the progress bar never need the file or the row results.
LIGHT = ("content", "results")


@role_required(Role.ADMIN)
def import_list(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                kind=form.cleaned_data["kind"],
                filename=upload.name,
                raw=upload.read(),
                created_by=request.user,
                all_or_nothing=form.cleaned_data["all_or_nothing"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("imports:detail", pk=job.pk)
    jobs = ImportJob.objects.defer(*LIGHT).select_related("created_by")[:50]
    columns = {
        kind: [(f, f in REQUIRED[kind], aliases) for f, aliases in cols.items()] for kind, cols in COLUMNS.items()
    }
    return render(request, "imports/import_list.html", {"form": form, "jobs": jobs, "columns": columns})


@role_required(Role.ADMIN)
def import_detail(request, pk: int):
    """The job: progress while it runs, then the row-by-row outcome (filter by action)."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by").defer("content"), pk=pk)
    action = request.GET.get("action", "")
    rows = [r for r in job.results if not action or r[1] == action]
    page = Paginator(rows, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/import_detail.html",
        {"job": job, "page": page, "action": action, "actions": RowAction.choices},
    )


@role_required(Role.ADMIN)
def import_progress(request, pk: int):
    """htmx polls this every second while the job runs; a finished job refreshes the page to show the rows."""
    job = get_object_or_404(ImportJob.objects.defer(*LIGHT), pk=pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if not job.is_busy and request.GET.get("was_busy"):
        response["HX-Refresh"] = "true"
    return response


@role_required(Role.ADMIN)
@require_POST
def import_start(request, pk: int):
    job = get_object_or_404(ImportJob.objects.defer(*LIGHT), pk=pk)
    try:
        services.import_start(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:detail", pk=pk)


def _stream(header, rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(exports.csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@reads_from_replica
def account_export(request):
    """The book of business as CSV with the same filters, book and sort as the page it was clicked from."""
    params = request.GET.copy()
    if "scope" not in params:
        params["scope"] = account_selectors.default_scope(request.user)
    params.setdefault("ordering", "name")
    flt = AccountFilter(params, queryset=account_selectors.account_list(user=request.user), request=request)
    if not flt.is_valid():
        context = {"message": "Some filters were not understood; fix them on the book of business and export again.",
                   "errors": flt.errors, "back": reverse("accounts:list") + "?" + request.GET.urlencode()}  # fmt: skip
        return render(request, "imports/export_error.html", context, status=400)
    return _stream(exports.ACCOUNT_HEADER, exports.account_rows(flt.qs), f"accounts-{timezone.localdate()}.csv")


@login_required
@reads_from_replica
def timeline_export(request, pk: int):
    """An account's timeline as CSV (optionally only some kinds), newest first."""
    account = get_object_or_404(Account.objects.only("id", "name"), pk=pk)
    kinds = request.GET.getlist("kind")
    bad = [k for k in kinds if k not in EntryKind.values]
    if bad:
        context = {"message": f"Unknown timeline entry kind: {bad[0]}.", "errors": {},
                   "back": reverse("timeline:account", args=[account.pk])}  # fmt: skip
        return render(request, "imports/export_error.html", context, status=400)
    qs = timeline_feed(account_id=account.pk, kinds=kinds)
    return _stream(
        exports.TIMELINE_HEADER, exports.timeline_rows(qs), f"timeline-{account.pk}-{timezone.localdate()}.csv"
    )
