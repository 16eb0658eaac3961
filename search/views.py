"""The global search: the htmx dropdown under the navbar's search box, and the full results page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.selectors import SCOPES
from search import selectors

DROPDOWN_LIMIT = 5
PAGE_LIMIT = 50


@login_required
def results(request):
    """``?q=`` (and optional ``scope``): grouped results; the dropdown fragment for htmx requests."""
    q = request.GET.get("q", "")
    scope = request.GET.get("scope") or None
    if scope not in (None, *SCOPES):
        scope = None
    dropdown = request.headers.get("HX-Request") == "true" and request.GET.get("full") != "1"
    context = {"q": q.strip(), "scope": scope, "scopes": SCOPES, "kinds": selectors.KINDS}
    status = 200
    try:
        found = selectors.global_search(
            user=request.user, q=q, scope=scope, limit=DROPDOWN_LIMIT if dropdown else PAGE_LIMIT
        )
    except selectors.QueryError as exc:
        found, context["error"], status = {}, str(exc), 400
    context["groups"] = [(kind, label, found.get(kind, [])) for kind, label in selectors.KINDS]
    context["total"] = sum(len(hits) for hits in found.values())
    context["too_short"] = len(q.strip()) < selectors.MIN_LENGTH
    template = "search/_dropdown.html" if dropdown else "search/results.html"
    return render(request, template, context, status=status)
