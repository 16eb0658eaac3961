"""Admin pages for usage ingestion (sources, key features, console) and the account 360 Usage tab."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import policies
from accounts.models import Account
from csp.decorators import role_required
from csp.models import Role
from events import metrics, selectors, services
from events.forms import EventSourceForm, KeyFeatureForm
from events.models import EventSource, KeyFeature


def _show_key_once(request, source: EventSource, key: str):
    # The key is in the response body only, never stored in the session or a message.
    return render(request, "events/source_key.html", {"source": source, "key": key})


@role_required(Role.ADMIN)
def source_list(request):
    """Event sources with their key prefix, and a form to add one."""
    form = EventSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source, key = services.source_create(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                auto_create_accounts=form.cleaned_data["auto_create_accounts"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _show_key_once(request, source, key)
    return render(request, "events/source_list.html", {"sources": selectors.source_list(), "form": form})


@role_required(Role.ADMIN)
def source_edit(request, pk: int):
    source = get_object_or_404(EventSource, pk=pk)
    form = EventSourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(
                source=source,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                auto_create_accounts=form.cleaned_data["auto_create_accounts"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {source.name}.")
            return redirect("events:source_list")
    return render(request, "events/source_edit.html", {"source": source, "form": form})


@require_POST
@role_required(Role.ADMIN)
def source_rotate(request, pk: int):
    source = get_object_or_404(EventSource, pk=pk)
    return _show_key_once(request, source, services.source_rotate_key(source=source))


@role_required(Role.ADMIN)
def feature_list(request):
    """Key features: which track events count as use of a key feature."""
    form = KeyFeatureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.key_feature_create(name=form.cleaned_data["name"], event_name=form.cleaned_data["event_name"])
        messages.success(request, f"Added key feature {form.cleaned_data['name']}.")
        return redirect("events:feature_list")
    return render(request, "events/feature_list.html", {"features": KeyFeature.objects.all(), "form": form})


@require_POST
@role_required(Role.ADMIN)
def feature_delete(request, pk: int):
    services.key_feature_delete(feature=get_object_or_404(KeyFeature, pk=pk))
    return redirect("events:feature_list")


@role_required(Role.ADMIN)
def console(request):
    """Ingestion console: events per source per hour, rejected calls with reasons, unmatched events."""
    try:
        hours = min(max(int(request.GET.get("hours", 48)), 1), 168)
    except ValueError:
        hours = 48
    since = timezone.now() - dt.timedelta(hours=hours)
    received = selectors.hourly_received(since=since)
    context = {
        "hours": hours,
        "received": received,
        "chart": {
            "labels": [h.strftime("%m-%d %H:00") for h in received["hours"]],
            "series": received["series"],
        },
        "rejections": selectors.rejections(since=since),
        "unmatched": selectors.unmatched(),
        "backlog": selectors.refresh_backlog(),
    }
    return render(request, "events/console.html", context)


@login_required
def account_usage(request, pk: int):
    """Account 360 Usage tab: DAU/WAU/MAU over 90 days, stickiness, license utilization, top events,
    key feature adoption, last seen per contact. The support ticket panel is support's (``support:account_tickets``),
    loaded into the page by htmx."""
    account = Account.objects.select_related("owner", "parent").filter(pk=pk).first()
    if account is None:
        raise Http404("No such account")
    today = timezone.now().astimezone(dt.UTC).date()
    usage = metrics.usage_summary(account_id=account.id, today=today)
    context = {
        "account": account,
        "can_edit": policies.can_edit_account(request.user, account),
        "tab": "usage",
        "usage": usage,
        "chart": {
            "labels": [p["day"].isoformat() for p in usage["series"]],
            "dau": [p["dau"] for p in usage["series"]],
            "mau": [p["mau"] for p in usage["series"]],
        },
    }
    return render(request, "events/account_usage.html", context)
