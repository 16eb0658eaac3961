"""The account Timeline tab (feed + quick log form), the htmx sentiment suggestion and the going-dark list."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import policies
from accounts.models import Account
from accounts.selectors import SCOPES, default_scope
from timeline import selectors, services
from timeline.forms import ActivityForm
from timeline.models import Activity, EntryKind
from timeline.sentiment import sentiment_suggest

FEED_PAGE_SIZE = 25
DARK_PAGE_SIZE = 50


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("owner", "parent"), pk=pk)


def _feed_context(request, account: Account) -> dict:
    kinds = [k for k in request.GET.getlist("kind") if k in EntryKind.values]
    page = Paginator(selectors.timeline_feed(account_id=account.pk, kinds=kinds), FEED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = "&".join(f"kind={k}" for k in kinds)
    # "import" is reserved: contract imports write "contract" lines.
    choices = [c for c in EntryKind.choices if c[0] != EntryKind.IMPORT]
    return {"page": page, "kinds": kinds, "kind_choices": choices, "kind_query": query}


@login_required
def account_timeline(request, pk: int):
    """The Timeline tab: newest first, filterable by kind, paginated; a quick log form for editors."""
    account = _account(pk)
    can_edit = policies.can_edit_account(request.user, account)
    context = {"account": account, "can_edit": can_edit, "tab": "timeline", **_feed_context(request, account)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "timeline-feed":
        return render(request, "timeline/_feed.html", context)
    if can_edit:
        context["form"] = ActivityForm(account=account)
    return render(request, "timeline/account_timeline.html", context)


@login_required
@require_POST
def activity_log(request, pk: int):
    """Log an activity from the quick form. htmx gets the refreshed panel back; plain posts a redirect."""
    account = _account(pk)
    if not policies.can_edit_account(request.user, account):
        raise PermissionDenied("You may not log activities on this account.")
    form = ActivityForm(request.POST, account=account)
    if form.is_valid():
        data = {f: form.cleaned_data[f] for f in ("kind", "occurred_at", "subject", "summary", "next_steps")}
        data["sentiment"] = form.cleaned_data["sentiment"]
        try:
            services.activity_create(
                account=account,
                author=request.user,
                data=data,
                contacts=form.cleaned_data["attendee_contacts"],
                users=form.cleaned_data["attendee_users"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, "Activity logged.")
                return redirect("timeline:account", pk=pk)
            form = ActivityForm(account=account)
    context = {"account": account, "can_edit": True, "tab": "timeline", "form": form}
    context.update(_feed_context(request, account))
    template = "timeline/_panel.html" if request.headers.get("HX-Request") else "timeline/account_timeline.html"
    return render(request, template, context)


@login_required
@require_POST
def activity_delete(request, pk: int):
    activity = get_object_or_404(Activity.objects.select_related("account"), pk=pk)
    if not policies.can_edit_account(request.user, activity.account):
        raise PermissionDenied("You may not change this account.")
    services.activity_delete(activity=activity)
    messages.success(request, "Activity deleted.")
    return redirect("timeline:account", pk=activity.account_id)


@login_required
@require_GET
def sentiment_suggestion(request):
    """htmx: VADER's reading of what the CSM has typed so far (no database query)."""
    text = "\n".join(request.GET.get(f, "") for f in ("subject", "summary", "next_steps")).strip()
    if len(text) > 20_000:
        return HttpResponse("Text too long to analyse.", status=400)
    label, score = sentiment_suggest(text)
    return render(request, "timeline/_suggestion.html", {"label": label, "score": score})


@login_required
def going_dark(request):
    """Accounts in the user's book with no touchpoint for N days (default 30), longest silence first."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = -1
    if not 1 <= days <= 3650:
        return render(
            request, "timeline/going_dark.html", {"error": "Days must be a number from 1 to 3650."}, status=400
        )
    scope = request.GET.get("scope") or default_scope(request.user)
    if scope not in SCOPES:
        scope = "all"
    ordering = request.GET.get("ordering") or "silence"
    qs = selectors.going_dark(user=request.user, scope=scope, days=days, ordering=ordering)
    page = Paginator(qs, DARK_PAGE_SIZE).get_page(request.GET.get("page"))
    querystring = urlencode({"days": days, "scope": scope, "ordering": ordering})
    context = {"page": page, "days": days, "scope": scope, "scopes": SCOPES, "querystring": querystring,
               "ordering": ordering}  # fmt: skip
    return render(request, "timeline/going_dark.html", context)
