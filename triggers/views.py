"""Admin pages for triggers (list, form, dry run, activate, execution log)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from csp.decorators import role_required
from csp.models import Role
from triggers import selectors, services
from triggers.conditions import PARAM_NAMES, SPECS
from triggers.forms import TriggerForm
from triggers.models import Trigger

PAGE_SIZE = 50
DRY_RUN_SHOWN = 200


@role_required(Role.ADMIN)
def trigger_list(request):
    return render(request, "triggers/trigger_list.html", {"triggers": selectors.trigger_list()})


@role_required(Role.ADMIN)
def trigger_edit(request, pk: int | None = None):
    trigger = get_object_or_404(Trigger, pk=pk) if pk else None
    form = TriggerForm(request.POST or None, instance=trigger)
    if request.method == "POST" and form.is_valid():
        try:
            if trigger is None:
                trigger = services.trigger_create(data=form.service_data(), user=request.user)
            else:
                trigger = services.trigger_update(trigger=Trigger.objects.get(pk=trigger.pk), data=form.service_data())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved trigger {trigger.name}.")
            # An inactive trigger goes to its dry run: check who would fire before activating it.
            return redirect("triggers:list") if trigger.is_active else redirect("triggers:dry_run", pk=trigger.pk)
    params_by_type = {key: [p.name for p in spec.params] for key, spec in SPECS.items()}
    context = {
        "form": form,
        "trigger": trigger,
        "params_by_type": params_by_type,
        "param_fields": [form[name] for name in PARAM_NAMES],
    }
    return render(request, "triggers/trigger_form.html", context)


@role_required(Role.ADMIN)
def trigger_dry_run(request, pk: int):
    """Who would fire now: the same evaluation as the real run, with no side effects."""
    trigger = get_object_or_404(Trigger.objects.select_related("scope_segment", "condition_segment"), pk=pk)
    ev = selectors.evaluate(trigger)
    context = {
        "trigger": trigger,
        "evaluation": ev,
        "fire": ev.fire[:DRY_RUN_SHOWN],
        "skipped": ev.skipped[:DRY_RUN_SHOWN],
        "shown": DRY_RUN_SHOWN,
    }
    return render(request, "triggers/dry_run.html", context)


@role_required(Role.ADMIN)
@require_POST
def trigger_toggle(request, pk: int):
    trigger = get_object_or_404(Trigger, pk=pk)
    try:
        services.trigger_set_active(trigger=trigger, active=not trigger.is_active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{trigger.name} is {'active' if trigger.is_active else 'paused'}.")
    return redirect("triggers:list")


@role_required(Role.ADMIN)
@require_POST
def trigger_delete(request, pk: int):
    trigger = get_object_or_404(Trigger, pk=pk)
    services.trigger_delete(trigger=trigger)
    messages.success(request, f"Deleted trigger {trigger.name}.")
    return redirect("triggers:list")


@role_required(Role.ADMIN)
def trigger_log(request, pk: int):
    trigger = get_object_or_404(Trigger, pk=pk)
    page = Paginator(selectors.execution_list(trigger=trigger), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "triggers/trigger_log.html", {"trigger": trigger, "page": page})
