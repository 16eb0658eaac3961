"""Success plans tab, plan page, printable plan, and the admin's plan templates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import policies
from accounts.models import Account
from csp.decorators import role_required
from csp.models import Role
from success import selectors, services
from success.forms import ITEM_FORMS, PlanEditForm, PlanForm, TemplateForm
from success.models import Milestone, Objective, ObjectiveStatus, PlanTask, PlanTemplate, SuccessPlan

ITEM_MODELS = {"objective": Objective, "milestone": Milestone, "task": PlanTask}


def _plan(plan_id: int) -> SuccessPlan:
    return get_object_or_404(selectors.plan_list().select_related("account__owner", "account__parent"), pk=plan_id)


def _editable_plan(request, plan_id: int) -> SuccessPlan:
    plan = get_object_or_404(SuccessPlan.objects.select_related("account"), pk=plan_id)
    if not policies.can_edit_account(request.user, plan.account):
        raise PermissionDenied("You may not change this account's plans.")
    return plan


@login_required
def account_plans(request, pk: int):
    """The Success plans tab: every plan of the account with TTO, TTFV and progress; a create form."""
    account = get_object_or_404(Account.objects.select_related("owner", "parent"), pk=pk)
    can_edit = policies.can_edit_account(request.user, account)
    plans = list(selectors.plan_list().filter(account=account))
    context = {
        "account": account,
        "can_edit": can_edit,
        "tab": "plans",
        "plans": [(p, selectors.plan_metrics(p)) for p in plans],
    }
    if can_edit:
        templates = selectors.templates_for(tier=account.tier, lifecycle_stage=account.lifecycle_stage)
        form = PlanForm(request.POST or None, account=account, templates=templates, initial={"owner": account.owner})
        if request.method == "POST" and form.is_valid():
            data = {
                f: form.cleaned_data[f] for f in ("name", "start_date", "contract", "owner") if form.cleaned_data[f]
            }
            try:
                plan = services.plan_create(account=account, data=data, template=form.cleaned_data["template"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Created plan {plan.name}.")
                return redirect("success:plan", plan_id=plan.pk)
        context["form"] = form
    elif request.method == "POST":
        raise PermissionDenied("You may not change this account's plans.")
    return render(request, "success/account_plans.html", context)


@login_required
def plan_detail(request, plan_id: int):
    """One plan: objectives, milestones, tasks, each editable inline by whoever may edit the account."""
    plan = _plan(plan_id)
    can_edit = policies.can_edit_account(request.user, plan.account)
    context = {
        "account": plan.account,
        "can_edit": can_edit,
        "tab": "plans",
        "plan": plan,
        "metrics": selectors.plan_metrics(plan),
        "objective_statuses": ObjectiveStatus.choices,
    }
    if can_edit:
        context["plan_form"] = PlanEditForm(instance=plan)
        context["new_forms"] = {kind: form(prefix=f"new-{kind}") for kind, form in ITEM_FORMS.items()}
    return render(request, "success/plan_detail.html", context)


@login_required
def plan_print(request, plan_id: int):
    """A clean page to print or save as PDF and share with the customer (no navigation, print CSS)."""
    plan = _plan(plan_id)
    return render(request, "success/plan_print.html", {"plan": plan, "metrics": selectors.plan_metrics(plan)})


@login_required
@require_POST
def plan_edit(request, plan_id: int):
    plan = _editable_plan(request, plan_id)
    if request.POST.get("delete"):
        services.plan_delete(plan=plan)
        messages.success(request, "Plan deleted.")
        return redirect("success:account", pk=plan.account_id)
    form = PlanEditForm(request.POST, instance=SuccessPlan.objects.select_related("account").get(pk=plan.pk))
    if form.is_valid():
        try:
            services.plan_update(plan=plan, data={f: form.cleaned_data[f] for f in PlanEditForm.Meta.fields})
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, "Plan saved.")
    else:
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect("success:plan", plan_id=plan.pk)


@login_required
@require_POST
def plan_item_save(request, plan_id: int, kind: str, item_id: int | None = None):
    """Add (no ``item_id``) or change an objective, milestone or task from the plan page."""
    if kind not in ITEM_FORMS:
        raise PermissionDenied("Unknown item kind.")
    plan = _editable_plan(request, plan_id)
    model = ITEM_MODELS[kind]
    item = get_object_or_404(model, pk=item_id, plan=plan) if item_id else None
    form = ITEM_FORMS[kind](request.POST, instance=item, prefix=None if item else f"new-{kind}")
    if form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            if item is None:
                services.plan_item_create(plan=plan, model=model, data=data)
            else:
                # The bound form has already written its values onto ``item``: update a fresh copy.
                services.plan_item_update(item=model.objects.select_related("plan").get(pk=item.pk), data=data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"Saved {kind}.")
    else:
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect("success:plan", plan_id=plan.pk)


@login_required
@require_POST
def plan_item_delete(request, plan_id: int, kind: str, item_id: int):
    if kind not in ITEM_MODELS:
        raise PermissionDenied("Unknown item kind.")
    plan = _editable_plan(request, plan_id)
    services.plan_item_delete(item=get_object_or_404(ITEM_MODELS[kind], pk=item_id, plan=plan))
    messages.success(request, f"Removed {kind}.")
    return redirect("success:plan", plan_id=plan.pk)


@role_required(Role.ADMIN)
def template_list(request):
    return render(request, "success/template_list.html", {"templates": PlanTemplate.objects.all()})


@role_required(Role.ADMIN)
def template_edit(request, pk: int | None = None):
    template = get_object_or_404(PlanTemplate, pk=pk) if pk else None
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in TemplateForm.Meta.fields}
        data["items"] = {s: form.cleaned_data[s] for s in ("objectives", "milestones", "tasks")}
        try:
            if template is None:
                services.template_create(data=data)
            else:
                services.template_update(template=PlanTemplate.objects.get(pk=template.pk), data=data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "Template saved.")
            return redirect("success:templates")
    title = f"Edit {template.name}" if template else "New plan template"
    return render(request, "accounts/form.html", {"form": form, "title": title, "account": None})
