"""The renewals board by quarter (htmx stage changes), a renewal's page (call, expected ARR, sign, churn, history)
and expansion opportunities. Writes go through ``accounts.renewals``; who may write through ``accounts.policies``."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import renewals
from accounts.models import Account
from accounts.policies import can_edit_account
from accounts.renewal_models import (
    OPEN_STAGES,
    ExpansionOpportunity,
    ExpansionStage,
    ForecastCall,
    Renewal,
    RenewalStage,
)
from csp.models import Role, User
from metrics.scope import add_months, quarter_label, quarter_start

QUARTER_COUNT = 6


class CallForm(forms.Form):
    forecast_call = forms.ChoiceField(choices=ForecastCall.choices, required=False, label="Forecast call")
    risk_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ExpectedForm(forms.Form):
    expected_arr = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, label="Expected ARR")


class SignForm(forms.Form):
    arr = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, label="ARR of the next term")
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    seats = forms.IntegerField(min_value=0, required=False)


class ChurnForm(forms.Form):
    churned_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Churned on")
    reason = forms.CharField(max_length=200, label="Churn reason")


class ExpansionForm(forms.ModelForm):
    class Meta:
        model = ExpansionOpportunity
        fields = ["title", "amount_arr", "stage", "expected_close", "notes"]
        widgets = {
            "expected_close": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"amount_arr": "ARR it adds"}


def _scope_q(user: User, prefix: str = "account__") -> Q:
    """Renewals a user sees on the board: CSMs their own accounts', managers their teams', others all."""
    if user.role == Role.CSM:
        return Q(**{f"{prefix}owner": user})
    if user.role == Role.MANAGER:
        return Q(**{f"{prefix}owner__team__manager": user}) | Q(**{f"{prefix}owner": user})
    return Q()


def _quarter(raw: str | None, today: dt.date) -> dt.date:
    if raw:
        try:
            year, q = raw.split("-Q")
            return dt.date(int(year), 3 * int(q) - 2, 1)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"quarter": "Use YYYY-Qn."}) from exc
    return quarter_start(today)


@login_required
def board(request):
    """Renewals whose contract ends in the chosen quarter, in one column per stage."""
    today = timezone.localdate()
    try:
        first = _quarter(request.GET.get("quarter"), today)
    except ValidationError as exc:
        return render(request, "metrics/bad_filters.html", {"errors": exc.message_dict}, status=400)
    last = add_months(first, 3) - dt.timedelta(days=1)
    qs = (
        Renewal.objects.filter(_scope_q(request.user), contract__end_date__gte=first, contract__end_date__lte=last)
        .select_related("account", "account__owner", "account__health", "contract", "owner")
        .order_by("contract__end_date", "id")
    )
    columns = {stage: [] for stage in RenewalStage.values}
    for renewal in qs:
        renewal.can_edit = can_edit_account(request.user, renewal.account)
        columns[renewal.stage].append(renewal)
    context = {
        "columns": [
            {
                "stage": s,
                "label": RenewalStage(s).label,
                "renewals": columns[s],
                "arr": sum(r.expected_arr for r in columns[s]),
            }
            for s in RenewalStage.values
        ],
        "quarter": quarter_label(first),
        "quarters": [quarter_label(add_months(quarter_start(today), 3 * i)) for i in range(-2, QUARTER_COUNT - 2)],
        "open_stages": [(s, RenewalStage(s).label) for s in OPEN_STAGES],
        "total": sum(len(v) for v in columns.values()),
    }
    template = "metrics/_renewal_board.html" if request.headers.get("HX-Request") else "metrics/renewal_board.html"
    return render(request, template, context)


def _editable(request, pk: int) -> Renewal:
    renewal = get_object_or_404(Renewal.objects.select_related("account", "contract"), pk=pk)
    if not can_edit_account(request.user, renewal.account):
        raise PermissionDenied("You may not change this renewal.")
    return renewal


@login_required
@require_POST
def stage(request, pk: int):
    """Move a renewal between the open stages from the board (htmx: the board body comes back). Signing and
    churning go through the renewal's page, which asks for the terms or the reason."""
    renewal = _editable(request, pk)
    new_stage = request.POST.get("stage", "")
    if new_stage not in OPEN_STAGES:
        messages.error(request, "Sign or churn a renewal from its page.")
    else:
        renewals.renewal_set_stage(renewal=renewal, stage=new_stage, user=request.user)
    if request.headers.get("HX-Request"):
        request.GET = request.GET.copy()
        request.GET["quarter"] = quarter_label(renewal.contract.end_date)
        return board(request)
    return redirect("metrics:renewal_detail", pk=pk)


@login_required
def detail(request, pk: int):
    """One renewal: its contract, the CSM's call and its history, expected ARR, sign or churn, expansions."""
    renewal = get_object_or_404(
        Renewal.objects.select_related("account", "account__owner", "contract", "owner", "forecast_call_by"), pk=pk
    )
    can_edit = can_edit_account(request.user, renewal.account)
    forms_ = {
        "call_form": CallForm(initial={"forecast_call": renewal.forecast_call, "risk_reason": renewal.risk_reason}),
        "expected_form": ExpectedForm(initial={"expected_arr": renewal.expected_arr}),
        "sign_form": SignForm(initial={"arr": renewal.expected_arr}),
        "churn_form": ChurnForm(initial={"reason": renewal.risk_reason}),
        "expansion_form": ExpansionForm(),
    }
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("You may not change this renewal.")
        action = request.POST.get("action")
        form_key, form = {
            "call": ("call_form", CallForm(request.POST)),
            "expected": ("expected_form", ExpectedForm(request.POST)),
            "sign": ("sign_form", SignForm(request.POST)),
            "churn": ("churn_form", ChurnForm(request.POST)),
            "expansion": ("expansion_form", ExpansionForm(request.POST)),
        }.get(action, (None, None))
        if form is None:
            messages.error(request, "Unknown action.")
        elif form.is_valid():
            try:
                _apply(action, renewal, form.cleaned_data, request.user)
                messages.success(request, "Saved.")
                return redirect("metrics:renewal_detail", pk=pk)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        forms_[form_key] = form
    context = {
        "renewal": renewal,
        "can_edit": can_edit,
        "history": renewal.call_changes.select_related("changed_by"),
        "expansions": ExpansionOpportunity.objects.filter(account=renewal.account).select_related("owner"),
        "open_stages": [(s, RenewalStage(s).label) for s in OPEN_STAGES],
        **forms_,
    }
    return render(request, "metrics/renewal_detail.html", context, status=400 if request.method == "POST" else 200)


def _apply(action: str, renewal: Renewal, data: dict, user: User) -> None:
    if action == "call":
        renewals.renewal_set_call(
            renewal=renewal, call=data["forecast_call"], risk_reason=data["risk_reason"], user=user
        )
    elif action == "expected":
        renewals.renewal_update(renewal=renewal, data={"expected_arr": data["expected_arr"]})
    elif action == "sign":
        renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.SIGNED, user=user, data=data)
    elif action == "churn":
        renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.CHURNED, user=user, data=data)
    elif action == "expansion":
        renewals.expansion_create(account=renewal.account, data=data, user=user)


@login_required
@require_POST
def call(request, pk: int):
    """The CSM's call edited inline on the renewal forecast (htmx: the cell comes back)."""
    renewal = _editable(request, pk)
    form = CallForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            renewals.renewal_set_call(
                renewal=renewal,
                call=form.cleaned_data["forecast_call"],
                risk_reason=form.cleaned_data["risk_reason"] or None,
                user=request.user,
            )
        except ValidationError as exc:
            error = " ".join(" ".join(v) for v in exc.message_dict.values())
    else:
        error = "Choose a valid call."
    renewal.refresh_from_db()
    return render(
        request, "metrics/_call_cell.html", {"renewal": renewal, "can_call": True, "error": error},
        status=400 if error else 200,
    )  # fmt: skip


@login_required
def expansions(request):
    """Expansion opportunities in the user's scope; CSMs log new ones on accounts they may change."""
    qs = (
        ExpansionOpportunity.objects.filter(_scope_q(request.user))
        .select_related("account", "owner")
        .order_by("stage", "expected_close", "id")
    )
    stage_filter = request.GET.get("stage", "")
    if stage_filter in ExpansionStage.values:
        qs = qs.filter(stage=stage_filter)
    form = ExpansionForm()
    can_create = request.user.role != Role.VIEWER
    editable_accounts = Account.objects.filter(_scope_q(request.user, prefix="")).order_by("name")[:500]
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied("Viewers change nothing.")
        form = ExpansionForm(request.POST)
        account = Account.objects.filter(pk=request.POST.get("account") or 0).first()
        if account is None:
            form.add_error(None, "Choose an account.")
        elif not can_edit_account(request.user, account):
            raise PermissionDenied("You may not change this account.")
        if form.is_valid() and account is not None:
            renewals.expansion_create(account=account, data=form.cleaned_data, user=request.user)
            messages.success(request, "Opportunity logged.")
            return redirect("metrics:expansions")
    rows = list(qs)
    context = {
        "expansions": rows,
        "form": form,
        "can_create": can_create,
        "accounts": editable_accounts,
        "stages": ExpansionStage.choices,
        "stage_filter": stage_filter,
        "total_arr": sum(e.amount_arr for e in rows if e.stage not in (ExpansionStage.LOST,)),
    }
    return render(request, "metrics/expansions.html", context, status=400 if form.errors else 200)
