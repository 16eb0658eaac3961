"""My day: the landing page of CSMs and managers, and its htmx actions (tick a task off from the list)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Account
from accounts.policies import can_edit_account
from csp.models import Role
from home import selectors
from home.overview import account_overview as account_overview_data
from home.selectors import TaskLine
from metrics.selectors import book_summary
from playbooks import policies as cta_policies
from playbooks import services as cta_services
from playbooks.models import CTATask
from success import services as plan_services
from success.models import PlanTask
from surveys.selectors import recent_detractors

DAY_ROLES = (Role.CSM, Role.MANAGER)


def _csm_param(request) -> int | None:
    try:
        return int(request.GET.get("csm") or 0) or None
    except ValueError:
        return None


@login_required
def my_day(request):
    """CSMs and managers land here; admins and viewers, who own no book, land on the book of business."""
    user = request.user
    if user.role not in DAY_ROLES:
        return redirect("accounts:list")
    today = timezone.localdate()
    scope = selectors.day_scope(user=user, csm_id=_csm_param(request))
    context = {
        **selectors.my_day(user=user, scope=scope, today=today),
        "scope": scope,
        "today": today,
        "renewal_days": selectors.RENEWAL_DAYS,
        "dark_days": selectors.GOING_DARK_DAYS,
        "horizon_days": selectors.DUE_HORIZON_DAYS,
        "is_manager": user.role == Role.MANAGER,
        # The revenue figures of my book (metrics) and the latest detractors (surveys), each from its one selector.
        "book": book_summary(user=user, today=today),
        "detractors": recent_detractors(user=user, days=30),
    }
    template = "home/_day_body.html" if request.headers.get("HX-Request") == "true" else "home/my_day.html"
    return render(request, template, context)


def _done_flag(request) -> bool:
    return request.POST.get("done", "1") == "1"


@login_required
@require_POST
def cta_task_done(request, task_id: int):
    """htmx: tick (or untick, ``done=0``) a CTA task from My day; answers the line, redrawn."""
    task = get_object_or_404(CTATask.objects.select_related("cta__account", "cta__owner__team", "assignee"), pk=task_id)
    if not cta_policies.can_tick_task(request.user, task):
        raise PermissionDenied("You may not tick this task.")
    try:
        cta_services.cta_task_set_done(task=task, done=_done_flag(request), by=request.user)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.headers.get("HX-Request") != "true":
        return redirect("home")
    line = TaskLine("cta", task, task.title, task.due_date, task.cta.account, task.cta.title, task.assignee)
    return render(request, "home/_task_line.html", {"line": line, "today": timezone.localdate()})


@login_required
@require_POST
def plan_task_done(request, task_id: int):
    """htmx: tick (or untick) a success-plan task from My day: its owner, or whoever may edit the account."""
    task = get_object_or_404(PlanTask.objects.select_related("plan__account", "owner"), pk=task_id)
    user = request.user
    allowed = user.can_write and (task.owner_id == user.id or can_edit_account(user, task.plan.account))
    if not allowed:
        raise PermissionDenied("You may not tick this task.")
    try:
        task = plan_services.plan_item_update(item=task, data={"done": _done_flag(request)})
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.headers.get("HX-Request") != "true":
        return redirect("home")
    line = TaskLine("plan", task, task.title, task.due_date, task.plan.account, task.plan.name, task.owner)
    return render(request, "home/_task_line.html", {"line": line, "today": timezone.localdate()})


@login_required
def account_overview(request, pk: int):
    """htmx: the account page's Overview panel (every role reads every account)."""
    try:
        context = account_overview_data(account_id=pk, today=timezone.localdate())
    except Account.DoesNotExist as exc:
        raise Http404("No such account") from exc
    return render(request, "home/_account_overview.html", context)
