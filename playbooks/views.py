"""The CSM's cockpit ("My CTAs"), a CTA's card and its htmx actions, the account's CTA tab, and the admin's
playbook and reason pages. Permission checks come from ``playbooks.policies``, writes from services."""

from operator import itemgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Account
from csp.decorators import role_required
from csp.models import Role
from csp.roles import managed_user_ids
from csp.selectors import assignable_owners
from playbooks import policies, selectors, services
from playbooks.cards import CardBuilder, form_errors
from playbooks.forms import (
    CloseForm,
    CockpitFilterForm,
    CommentForm,
    CTAEditForm,
    CTAOpenForm,
    PlaybookForm,
    PlaybookTaskFormSet,
    ReasonForm,
    ReassignForm,
    SnoozeForm,
)
from playbooks.models import CTA, CTAReason, CTATask, Playbook

# 25 cards a page (was 50): each card carries its tasks and four action forms (with the whole reassign picker), so
# 25 already make a long page of work, most pressing first; the group headers count everything and the pager
# reaches the rest. Rendering is the bulk of the page's CPU, and it scales with the cards.
PAGE_SIZE = 25


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def owner_options() -> str:
    """The reassign picker's <option>s (each owner's ``str()``: full name, else e-mail), rendered once per page
    rather than once per card, from plain rows (no User instances)."""
    rows = assignable_owners().values_list("pk", "full_name", "email")
    return format_html_join("", '<option value="{}">{}</option>', ((pk, name or email) for pk, name, email in rows))


def _options_for(user) -> str:
    return owner_options() if user.role != Role.VIEWER else ""


# --- cockpit ----------------------------------------------------------------------------------------------


@login_required
def cockpit(request):
    """My CTAs: active CTAs grouped overdue / today / this week / later, filterable by type, priority, account.
    Managers see their team's with overdue counts per CSM; admins see all; viewers read."""
    user, today = request.user, timezone.localdate()
    params = request.GET.copy()
    params.setdefault("scope", selectors.default_scope(user))
    form = CockpitFilterForm(params)
    form.is_valid()
    data = form.cleaned_data
    # A manager's team, read once: the scope's owner list, the per-CSM counts and who may act on which card.
    team_ids = managed_user_ids(user) if user.role == Role.MANAGER else None
    qs = selectors.cockpit_queryset(
        user=user,
        scope=data.get("scope") or "all",
        today=today,
        snoozed=data.get("show") == "snoozed",
        cta_type=data.get("cta_type") or "",
        priority=data.get("priority") or "",
        account_name=data.get("account") or "",
        team_ids=team_ids,
    )
    team = None
    if user.role in (Role.MANAGER, Role.ADMIN):
        team = selectors.team_counts(user=user, today=today, team_ids=team_ids)
    unfiltered = not any(data.get(f) for f in ("show", "cta_type", "priority", "account"))
    if team_ids is not None and data.get("scope") == "team" and unfiltered:
        # A manager's default view lists exactly the CTAs the per-CSM table counts: no second count of the team.
        counts = selectors.team_group_counts(team)
    else:
        counts = selectors.group_counts(qs, today)
    paginator = Paginator(qs.values_list("id", flat=True), PAGE_SIZE)
    paginator.count = sum(counts.values())  # known from the aggregate: saves a COUNT query
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.card_rows(list(page.object_list))
    builder = CardBuilder(user=user, today=today, can_act=policies.cta_action_map_rows(user, rows, managed=team_ids))
    groups = selectors.cockpit_groups(rows, today, due=itemgetter("due_date"))
    for group in groups:
        group["total"] = counts[group["key"]]
        group["cards"] = [builder.card(row) for row in group["ctas"]]
    params.pop("page", None)
    context = {
        "form": form,
        "groups": groups,
        "page": page,
        "querystring": params.urlencode(),
        "today": today,
        "here": request.get_full_path(),
        "owner_options": _options_for(user),
        "team_counts": team,
    }
    template = "playbooks/_cockpit_list.html" if _is_htmx(request) else "playbooks/cockpit.html"
    return render(request, template, context)


def _card_context(request, pk: int, **forms) -> dict:
    """One card (the CTA page, the htmx answer of a card's action), built as the cockpit builds its cards;
    ``forms``: bound action forms whose errors the card shows."""
    user = request.user
    rows = selectors.card_rows([pk])
    if not rows:
        raise Http404("No such CTA")
    builder = CardBuilder(user=user, today=timezone.localdate(), can_act=policies.cta_action_map_rows(user, rows))
    card = builder.card(rows[0])
    card["errors"] = form_errors(*forms.values())
    return {
        "card": card,
        "can_act": card["can_act"],
        "here": request.get_full_path(),
        "owner_options": _options_for(user) if card["can_act"] else "",
    }


# --- one CTA ----------------------------------------------------------------------------------------------


def _get_cta(pk: int) -> CTA:
    try:
        return selectors.cta_detail(pk=pk)
    except CTA.DoesNotExist as exc:
        raise Http404("No such CTA") from exc


def _actable_cta(request, pk: int) -> CTA:
    cta = _get_cta(pk)
    if not policies.can_act_on_cta(request.user, cta):
        raise PermissionDenied("You may not change this CTA.")
    return cta


def _respond(request, pk: int, done_message: str = "", status: int = 200, **forms):
    """After an action: the fresh card for htmx, else back where the user came from (or the CTA page)."""
    if forms:
        status = 200 if _is_htmx(request) else 400
    if _is_htmx(request):
        return render(request, "playbooks/_cta_card.html", _card_context(request, pk, **forms), status=status)
    if status != 200:
        return render(request, "playbooks/cta_detail.html", _detail_context(request, pk, **forms), status=status)
    if done_message:
        messages.success(request, done_message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "playbooks:cta_detail", **({} if target else {"pk": pk}))


def _detail_context(request, pk: int, **forms) -> dict:
    """The CTA page: its card, and the CTA itself for the header and footer (opened, source, playbook)."""
    return {"cta": _get_cta(pk), **_card_context(request, pk, **forms)}


@login_required
def cta_detail(request, pk: int):
    if _is_htmx(request):
        return render(request, "playbooks/_cta_card.html", _card_context(request, pk))
    return render(request, "playbooks/cta_detail.html", _detail_context(request, pk))


@login_required
def cta_edit(request, pk: int):
    cta = _actable_cta(request, pk)
    form = CTAEditForm(request.POST or None, instance=cta)
    if request.method == "POST" and form.is_valid():
        try:
            services.cta_update(cta=CTA.objects.get(pk=pk), data={f: form.cleaned_data[f] for f in form.Meta.fields})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "CTA saved.")
            return redirect("playbooks:cta_detail", pk=pk)
    return render(request, "playbooks/form.html", {"form": form, "title": f"Edit CTA: {cta.title}", "back": cta})


def _action(request, pk: int, form, apply, message: str, error_key: str):
    """Validate a small action form, run the service, answer with the card (errors shown in it)."""
    cta = _actable_cta(request, pk)
    if form.is_valid():
        try:
            apply(CTA.objects.select_related("account", "owner").get(pk=cta.pk), form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _respond(request, pk, message)
    return _respond(request, pk, **{error_key: form})


@login_required
@require_POST
def cta_snooze(request, pk: int):
    form = SnoozeForm(request.POST)
    return _action(
        request, pk, form, lambda c, d: services.cta_snooze(cta=c, until=d["until"]), "CTA snoozed.", "snooze_form"
    )


@login_required
@require_POST
def cta_wake(request, pk: int):
    cta = _actable_cta(request, pk)
    services.cta_snooze(cta=CTA.objects.get(pk=cta.pk), until=None)
    return _respond(request, pk, "CTA is back in the cockpit.")


@login_required
@require_POST
def cta_reassign(request, pk: int):
    form = ReassignForm(request.POST)
    return _action(
        request,
        pk,
        form,
        lambda c, d: services.cta_reassign(cta=c, owner=d["owner"], by=request.user),
        "CTA reassigned.",
        "reassign_form",
    )


@login_required
@require_POST
def cta_close(request, pk: int):
    form = CloseForm(request.POST)
    return _action(
        request,
        pk,
        form,
        lambda c, d: services.cta_close(cta=c, outcome=d["outcome"], note=d["note"], by=request.user),
        "CTA closed.",
        "close_form",
    )


@login_required
@require_POST
def cta_comment(request, pk: int):
    form = CommentForm(request.POST)
    return _action(
        request,
        pk,
        form,
        lambda c, d: services.cta_comment_add(cta=c, author=request.user, body=d["body"]),
        "Comment added.",
        "comment_form",
    )


@login_required
@require_POST
def cta_task_toggle(request, pk: int, task_id: int):
    task = get_object_or_404(CTATask.objects.select_related("cta__account", "cta__owner__team"), pk=task_id, cta_id=pk)
    if not policies.can_tick_task(request.user, task):
        raise PermissionDenied("You may not tick this task.")
    try:
        services.cta_task_set_done(task=task, done=request.POST.get("done") == "1", by=request.user)
    except ValidationError as exc:
        if not _is_htmx(request):
            messages.error(request, " ".join(exc.messages))
    return _respond(request, pk, "")


# --- account tab ------------------------------------------------------------------------------------------


@login_required
def account_ctas(request, pk: int):
    """The account 360's CTAs tab: its open and closed CTAs and the "Open CTA" form."""
    try:
        account = account_selectors.account_detail(pk=pk)
    except Account.DoesNotExist as exc:
        raise Http404("No such account") from exc
    can_open = policies.can_open_cta(request.user, account)
    form = CTAOpenForm(request.POST or None, initial={"owner": account.owner_id})
    status = 200
    if request.method == "POST":
        if not can_open:
            raise PermissionDenied("You may not open CTAs on this account.")
        if form.is_valid():
            try:
                cta = services.cta_open(account=account, created_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Opened CTA “{cta.title}”.")
                return redirect("playbooks:account_ctas", pk=pk)
        status = 400
    ctas = list(selectors.account_ctas(account_id=account.pk))
    can_act = policies.cta_action_map(request.user, ctas)
    context = {
        "account": account,
        "can_edit": policies.can_open_cta(request.user, account),
        "tab": "ctas",
        "form": form,
        "open_ctas": [c for c in ctas if not c.is_closed],
        "closed_ctas": [c for c in ctas if c.is_closed],
        "can_act": can_act,
        "today": timezone.localdate(),
    }
    return render(request, "playbooks/account_ctas.html", context, status=status)


# --- admin: playbooks and reasons -------------------------------------------------------------------------


@role_required(Role.ADMIN)
def playbook_list(request):
    return render(request, "playbooks/playbook_list.html", {"playbooks": selectors.playbook_list()})


@role_required(Role.ADMIN)
def playbook_edit(request, pk: int | None = None):
    playbook = get_object_or_404(Playbook, pk=pk) if pk else None
    initial = [
        {f: getattr(t, f) for f in ("title", "task_type", "due_in_days", "assignee_role", "guidance")}
        | {"ORDER": i + 1}
        for i, t in enumerate(playbook.tasks.all() if playbook else [])
    ]
    form = PlaybookForm(request.POST or None, instance=playbook)
    formset = PlaybookTaskFormSet(request.POST or None, initial=initial, prefix="tasks")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            # ordered_forms: filled-in, not deleted, by ORDER (blank orders last, in page order).
            tasks = [
                {k: v for k, v in f.cleaned_data.items() if k not in ("ORDER", "DELETE")} for f in formset.ordered_forms
            ]
            data = {f: form.cleaned_data[f] for f in form.Meta.fields}
            try:
                saved = services.playbook_save(
                    data=data, tasks=tasks, playbook=Playbook.objects.get(pk=pk) if pk else None
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Saved playbook {saved.name}.")
                return redirect("playbooks:playbook_list")
        status = 400
    title = f"Edit playbook {playbook.name}" if playbook else "New playbook"
    context = {"form": form, "formset": formset, "title": title, "playbook": playbook}
    return render(request, "playbooks/playbook_form.html", context, status=status)


@role_required(Role.ADMIN)
@require_POST
def playbook_delete(request, pk: int):
    playbook = get_object_or_404(Playbook, pk=pk)
    services.playbook_delete(playbook=playbook)
    messages.success(request, f"Deleted playbook {playbook.name}.")
    return redirect("playbooks:playbook_list")


@role_required(Role.ADMIN)
def reason_list(request):
    return render(request, "playbooks/reason_list.html", {"reasons": selectors.reason_list()})


@role_required(Role.ADMIN)
def reason_edit(request, pk: int | None = None):
    reason = get_object_or_404(CTAReason, pk=pk) if pk else None
    form = ReasonForm(request.POST or None, instance=reason)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in form.Meta.fields}
            try:
                services.reason_save(data=data, reason=CTAReason.objects.get(pk=pk) if pk else None)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Reason saved.")
                return redirect("playbooks:reason_list")
        status = 400
    title = f"Edit reason {reason.name}" if reason else "New CTA reason"
    return render(request, "playbooks/form.html", {"form": form, "title": title}, status=status)


@role_required(Role.ADMIN)
@require_POST
def reason_delete(request, pk: int):
    reason = get_object_or_404(CTAReason, pk=pk)
    try:
        services.reason_delete(reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Deleted reason {reason.name}.")
    return redirect("playbooks:reason_list")
