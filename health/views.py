"""Health pages: the account's Health tab (explanation, chart, override, pulse) and the scorecard admin."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import policies
from accounts.models import Account
from csp.decorators import role_required
from csp.models import Role
from health import selectors, services
from health.forms import MeasureFormSet, OverrideForm, ScorecardForm, SentimentForm, measure_initial
from health.models import HealthOverride, Scorecard
from health.scorecards import scorecard_delete, scorecard_save
from health.tasks import health_recompute_history


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("owner", "parent"), pk=pk)


def _editable(request, pk: int) -> Account:
    account = _account(pk)
    if not policies.can_edit_account(request.user, account):
        raise PermissionDenied("You may not change this account.")
    return account


@login_required
def account_health(request, pk: int, override_form=None, sentiment_form=None):
    """The Health tab: score, band, trend, override, each measure's breakdown, what changed, and history."""
    account = _account(pk)
    can_edit = policies.can_edit_account(request.user, account)
    context = {
        "account": account,
        "can_edit": can_edit,
        "can_delete": policies.can_delete_account(request.user, account),
        "tab": "health",
        "health": selectors.explanation(account.pk),
        "overrides": selectors.override_history(account.pk),
        "sentiment": selectors.latest_sentiment(account.pk),
        "override_form": override_form or OverrideForm(),
        "sentiment_form": sentiment_form or SentimentForm(),
        "today": timezone.localdate(),
    }
    return render(
        request, "health/account_health.html", context, status=400 if override_form or sentiment_form else 200
    )


@login_required
@require_POST
def override_create(request, pk: int):
    account = _editable(request, pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.override_create(account=account, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Override saved.")
            return redirect("health:account", pk=pk)
    return account_health(request, pk, override_form=form)


@login_required
@require_POST
def override_end(request, pk: int, override_id: int):
    account = _editable(request, pk)
    override = get_object_or_404(HealthOverride, pk=override_id, account=account)
    try:
        services.override_end(override=override, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Override ended.")
    return redirect("health:account", pk=pk)


@login_required
@require_POST
def sentiment_set(request, pk: int):
    account = _editable(request, pk)
    form = SentimentForm(request.POST)
    if not form.is_valid():
        return account_health(request, pk, sentiment_form=form)
    services.sentiment_set(account=account, user=request.user, **form.cleaned_data)
    messages.success(request, "Pulse recorded; the score is being recomputed.")
    return redirect("health:account", pk=pk)


@role_required(Role.ADMIN)
def scorecard_list(request):
    return render(request, "health/scorecard_list.html", {"scorecards": selectors.scorecard_list()})


@role_required(Role.ADMIN)
def scorecard_edit(request, pk: int | None = None):
    """Create or edit a scorecard with its measures; errors from the service show on the form."""
    card = get_object_or_404(selectors.scorecard_list(), pk=pk) if pk else None
    form = ScorecardForm(request.POST or None, instance=card)
    formset = MeasureFormSet(request.POST or None, initial=measure_initial(card), prefix="m")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {f: form.cleaned_data[f] for f in ScorecardForm.Meta.fields}
        rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("key") and not f.cleaned_data.get("DELETE")]
        try:
            card = scorecard_save(
                scorecard=Scorecard.objects.get(pk=card.pk) if card else None,
                data=data,
                measures=[
                    {k: r[k] for k in ("key", "weight", "direction", "interpolation", "breakpoints")} for r in rows
                ],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Saved {card.name}; current scores are being recomputed.")
            return redirect("health:scorecard_edit", pk=card.pk)
    title = f"Scorecard: {card.name}" if card else "New scorecard"
    return render(
        request, "health/scorecard_form.html", {"form": form, "formset": formset, "title": title, "card": card},
        status=400 if request.method == "POST" else 200,
    )  # fmt: skip


@role_required(Role.ADMIN)
@require_POST
def scorecard_delete_view(request, pk: int):
    card = get_object_or_404(Scorecard, pk=pk)
    try:
        scorecard_delete(scorecard=card)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("health:scorecard_edit", pk=pk)
    messages.success(request, f"Deleted {card.name}.")
    return redirect("health:scorecard_list")


@role_required(Role.ADMIN)
@require_POST
def scorecard_recompute_history(request, pk: int):
    """ "Apply and recompute history": rescore the last 180 days of this scorecard's accounts in the worker."""
    card = get_object_or_404(Scorecard, pk=pk)
    transaction.on_commit(partial(health_recompute_history.delay, card.pk))
    messages.success(request, f"Recomputing {services.HISTORY_DAYS} days of history for {card.name} in the background.")
    return redirect("health:scorecard_edit", pk=pk)
