"""Survey pages for logged-in users: the list with scores, results per survey (filtered by account, segment,
CSM, team and period) with charts, comments and themes, the sending jobs' progress, CSV export, and the
admins' definition and send actions. Reads are scoped by role in ``surveys.selectors``."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from csp.decorators import role_required
from csp.models import Role
from surveys import selectors, services
from surveys.forms import ResultFilterForm, SurveyForm
from surveys.models import Survey, SurveyBatch


def _filter(request) -> tuple[ResultFilterForm, selectors.ResultFilter]:
    form = ResultFilterForm(request.GET or None)
    flt = selectors.ResultFilter()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        flt = selectors.ResultFilter(
            account_id=d.get("account"),
            segment=d.get("segment"),
            owner_id=d["owner"].pk if d.get("owner") else None,
            team_id=d["team"].pk if d.get("team") else None,
            start=d.get("start"),
            end=d.get("end"),
        )
    return form, flt


@login_required
def survey_list(request):
    """Every survey with its score, answers and response rate in the user's scope."""
    surveys = selectors.surveys_with_scores(user=request.user)
    return render(request, "surveys/list.html", {"surveys": surveys, "can_admin": request.user.role == Role.ADMIN})


@login_required
def survey_detail(request, pk: int):
    """Results of one survey: score, trend, distribution, response rate, comments with sentiment and themes."""
    survey = get_object_or_404(Survey.objects.select_related("segment"), pk=pk)
    form, flt = _filter(request)
    results = selectors.survey_results(user=request.user, survey=survey, flt=flt)
    is_admin = request.user.role == Role.ADMIN
    chart = {
        "distribution": {
            "labels": [d["score"] for d in results["distribution"]],
            "counts": [d["count"] for d in results["distribution"]],
            "bands": [d["band"] for d in results["distribution"]],
        },
        "trend": {
            "labels": [t["month"][:7] for t in results["trend"]],
            "scores": [t["score"] for t in results["trend"]],
        },
    }
    return render(
        request,
        "surveys/detail.html",
        {
            "survey": survey,
            "form": form,
            "results": results,
            "chart": chart,
            "is_admin": is_admin,
            "batches": selectors.batches_of(survey) if is_admin else [],
            "failed": selectors.failed_sends(survey) if is_admin else [],
            "query": request.GET.urlencode(),
        },
    )


@role_required(Role.ADMIN)
def survey_edit(request, pk: int | None = None):
    survey = get_object_or_404(Survey, pk=pk) if pk else Survey()
    form = SurveyForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_save(survey=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Survey “{survey}” saved.")
            return redirect("surveys:detail", pk=survey.pk)
    return render(request, "surveys/form.html", {"form": form, "survey": survey})


@require_POST
@role_required(Role.ADMIN)
def survey_send(request, pk: int):
    """Send now to the survey's audience (throttling and unsubscribes apply), as a background job."""
    survey = get_object_or_404(Survey, pk=pk)
    try:
        batch = services.survey_batch_create(survey=survey, user=request.user, source="manual")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Sending to {batch.total} contact(s) in the background; {batch.skipped} left out (throttled or "
            "unsubscribed).",
        )
    return redirect("surveys:detail", pk=pk)


@role_required(Role.ADMIN)
def batch_progress(request, pk: int, batch_id: int):
    """The htmx partial polled while a job runs."""
    batch = get_object_or_404(SurveyBatch, pk=batch_id, survey_id=pk)
    return render(request, "surveys/_batch.html", {"batch": batch, "survey_id": pk})


@require_POST
@role_required(Role.ADMIN)
def batch_retry(request, pk: int, batch_id: int):
    batch = get_object_or_404(SurveyBatch, pk=batch_id, survey_id=pk)
    n = services.survey_batch_retry(batch=batch)
    messages.success(request, f"Retrying {n} failed send(s).")
    return redirect("surveys:detail", pk=pk)


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a respondent's comment must never run as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def survey_export(request, pk: int):
    """The answers of the survey (same filters and scope as the page) as CSV, streamed."""
    survey = get_object_or_404(Survey, pk=pk)
    _, flt = _filter(request)
    flt.survey = survey
    rows = (
        flt.apply(selectors.responses_visible(request.user), "answered_at")
        .select_related("account__owner", "contact")
        .order_by("-answered_at", "-id")
    )
    header = ["answered_at", "account", "account_external_id", "csm", "contact", "email", "score", "category",
              "band", "comment", "sentiment", "channel"]  # fmt: skip
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for r in rows.iterator(chunk_size=1000):
            yield writer.writerow(
                [_cell(v) for v in (
                    r.answered_at.isoformat(), r.account.name, r.account.external_id,
                    r.account.owner.email if r.account.owner else "", r.contact.name, r.contact.email, r.score,
                    r.nps_category, r.band, r.comment, r.sentiment, r.channel,
                )]
            )  # fmt: skip

    stamp = timezone.localdate().isoformat()
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-{stamp}.csv"'
    return response
