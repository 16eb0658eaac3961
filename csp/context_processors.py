"""Navigation shown to the logged-in user, by role. Only pages that exist are listed."""

from django.urls import reverse

from csp.models import Role

# (label, url name, roles allowed or None for every role); later capabilities add their entries here.
NAV_ITEMS = [
    ("Accounts", "accounts:list", None),
    ("CTAs", "playbooks:cockpit", None),
    ("Dashboards", "metrics:index", None),
    ("Renewals", "metrics:renewals", None),
    ("Playbooks", "playbooks:playbook_list", {Role.ADMIN}),
    ("Segments", "segments:list", {Role.ADMIN}),
    ("Triggers", "triggers:list", {Role.ADMIN}),
    ("Users", "csp:user_list", {Role.ADMIN}),
    ("Teams", "csp:team_list", {Role.ADMIN, Role.MANAGER}),
    ("Surveys", "surveys:list", None),
    ("Going dark", "timeline:going_dark", None),
    ("Plan templates", "success:templates", {Role.ADMIN}),
    ("Import", "imports:list", {Role.ADMIN}),
    ("Custom fields", "accounts:custom_fields", {Role.ADMIN}),
    ("Health", "health:scorecard_list", {Role.ADMIN}),
    ("Ingestion", "events:console", {Role.ADMIN}),
    ("Audit log", "audit:log", {Role.ADMIN}),
    ("API docs", "swagger-ui", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, roles in NAV_ITEMS:
        if roles is None or user.role in roles:
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items}
