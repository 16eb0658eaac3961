"""Support pages: the ticket panel of the account 360 Usage tab (loaded by htmx into the page events renders)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Account
from support import metrics, selectors

WINDOW = dt.timedelta(days=90)


@login_required
def account_tickets(request, pk: int):
    """The account's recent tickets with response and resolution times, and its ticket KPIs over 90 days."""
    if not Account.objects.filter(pk=pk).exists():
        raise Http404("No such account")
    context = {
        "tickets": selectors.recent_tickets(account_id=pk),
        "ticket_metrics": metrics.ticket_metrics(account_id=pk, since=timezone.now() - WINDOW),
    }
    return render(request, "support/_account_tickets.html", context)
