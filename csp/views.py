"""Pages of the ``csp`` app: profile and API token, users and teams administration, health check."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_POST

from csp import selectors, services
from csp.celery import app as celery_app
from csp.decorators import role_required
from csp.forms import TeamForm, UserForm
from csp.models import ApiToken, Role, Team, User


@login_required
def profile(request):
    token = ApiToken.objects.filter(user=request.user).first()
    return render(request, "csp/profile.html", {"token": token})


@login_required
@require_POST
def token_rotate(request):
    """Every role may hold a token: viewers read through the API as they read in the UI."""
    token = services.api_token_rotate(user=request.user)
    messages.success(request, "A new API token was created; the previous one no longer works.")
    return render(request, "csp/profile.html", {"token": token, "token_new": True})


@role_required(Role.ADMIN)
def user_list(request):
    return render(request, "csp/user_list.html", {"users": selectors.user_list()})


@role_required(Role.ADMIN)
def user_edit(request, pk: int | None = None):
    user = get_object_or_404(User, pk=pk) if pk else None
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in UserForm.Meta.fields}
        password = form.cleaned_data.get("password") or None
        try:
            if user is None:
                services.user_create(data=data, password=password)
            else:
                services.user_update(user=user, data=data, password=password)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {data['email']}.")
            return redirect("csp:user_list")
    return render(request, "csp/form.html", {"form": form, "title": "Edit user" if user else "New user"})


@role_required(Role.ADMIN, Role.MANAGER)
def team_list(request):
    return render(request, "csp/team_list.html", {"teams": selectors.team_list().prefetch_related("members")})


@role_required(Role.ADMIN)
def team_edit(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    initial = {"members": list(team.members.all())} if team else {}
    form = TeamForm(request.POST or None, instance=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {"name": form.cleaned_data["name"], "manager": form.cleaned_data["manager"]}
        member_ids = [u.id for u in form.cleaned_data["members"]]
        try:
            if team is None:
                services.team_create(data=data, member_ids=member_ids)
            else:
                services.team_update(team=team, data=data, member_ids=member_ids)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved team {data['name']}.")
            return redirect("csp:team_list")
    return render(request, "csp/form.html", {"form": form, "title": "Edit team" if team else "New team"})


def healthz(request):
    """Liveness and readiness: the database and the Celery broker; 503 if either is down. Outsiders learn only
    up or down; the checks (vendor, broker mode, error text) are for logged-in admins."""
    checks: dict[str, dict[str, str]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:
        checks["database"] = {"status": "error", "error": str(exc)[:200]}
    if celery_app.conf.task_always_eager:
        checks["broker"] = {"status": "ok", "mode": "in-process (no REDIS_URL)"}
    else:
        try:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = {"status": "ok", "mode": "redis"}
        except Exception as exc:
            checks["broker"] = {"status": "error", "mode": "redis", "error": str(exc)[:200]}
    ok = all(c["status"] == "ok" for c in checks.values())
    body: dict = {"status": "ok" if ok else "error"}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.role == Role.ADMIN:
        body["checks"] = checks
    return JsonResponse(body, status=200 if ok else 503)


def api_not_found(request, exception=None):
    """404 handler: JSON with the API error shape under /api/ and /v1/, the HTML page elsewhere."""
    if request.path.startswith(("/api/", "/v1/")):
        return JsonResponse({"code": "not_found", "message": f"No endpoint at {request.path}."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith(("/api/", "/v1/")):
        return JsonResponse({"code": "server_error", "message": "An unexpected error occurred."}, status=500)
    return render(request, "500.html", status=500)


def favicon(request):
    """``/favicon.ico``: browsers ask for it on pages without a ``<link rel="icon">`` (JSON, the API docs)."""
    return redirect(static("csp/favicon.svg"), permanent=True)
