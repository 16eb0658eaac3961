"""Password login with a TOTP step, and the profile pages that enrol or remove the second factor."""

import time
from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from csp import mfa
from csp.models import User

PENDING = "mfa_pending"  # session key: the user who passed the password step, waiting for their code
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Django's login; when the user has a TOTP device the session is logged in only after the code."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "sso_enabled": settings.SSO_ENABLED,
            "sso_name": settings.OIDC_PROVIDER_NAME,
            "password_login_enabled": settings.PASSWORD_LOGIN_ENABLED,
            "sso_failed": "sso" in self.request.GET,
        }

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN_ENABLED:
            return HttpResponseForbidden("Password login is disabled on this deployment; use single sign-on.")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if mfa.mfa_device(user=user) is None:
            response = super().form_valid(form)
            if mfa.mfa_required(user=user):
                messages.warning(self.request, "Your role requires a second factor: set it up to continue.")
                return redirect("csp:mfa_setup")
            return response
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("login_verify")


def login_verify(request):
    """The second step of a password login: a code from the user's authenticator app."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.error(request, "Your login expired; enter your password again.")
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    device = mfa.mfa_device(user=user) if user else None
    error = None
    if request.method == "POST":
        token = request.POST.get("token", "")
        if device is not None and device.verify_token(token.strip()):
            del request.session[PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(pending["next"])
        error = "That code is not valid. Enter the current 6-digit code from your authenticator app."
    return render(request, "registration/login_verify.html", {"error": error}, status=400 if error else 200)


@login_required
def mfa_setup(request):
    """Enrol: scan the QR code (or type the secret), then confirm with the first code."""
    if mfa.mfa_device(user=request.user) is not None and request.method == "GET":
        return render(request, "csp/mfa_setup.html", {"enrolled": True})
    device = mfa.mfa_enrolment_start(user=request.user)
    error = None
    if request.method == "POST":
        confirmed = mfa.mfa_enrolment_confirm(user=request.user, token=request.POST.get("token", ""))
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, "Two-factor authentication is on: logins now ask for a code.")
            return redirect("csp:profile")
        error = "That code is not valid; check the time on your phone and enter the current code."
    return render(
        request,
        "csp/mfa_setup.html",
        {"qr_svg": mfa.mfa_qr_svg(device=device), "secret": b32encode(device.bin_key).decode(), "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def mfa_disable(request):
    if mfa.mfa_required(user=request.user):
        messages.error(request, "Your role requires a second factor; it cannot be removed.")
    elif mfa.mfa_disable(user=request.user, token=request.POST.get("token", "")):
        messages.success(request, "Two-factor authentication is off.")
    else:
        messages.error(request, "That code is not valid; the second factor stays on.")
    return redirect("csp:profile")


def mfa_enforced(request) -> bool:
    """Whether this (session) request must first enrol or verify a second factor (used by the middleware)."""
    user = request.user
    if request.session.get("_auth_user_backend") == "csp.oidc.RoleMappingOIDCBackend":
        return False  # single sign-on: the identity provider enforces its own second factor
    return bool(user.is_authenticated and mfa.mfa_required(user=user) and not user.is_verified())


class RequireMFAMiddleware:
    """With MFA_REQUIRED_FOR_ADMINS, an admin's browser session reaches only the enrolment page, logout and
    static files until it is verified. API token requests authenticate later, in DRF, and are not affected."""

    ALLOWED = ("/profile/mfa/", "/logout/", "/login/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MFA_REQUIRED_FOR_ADMINS and not request.path.startswith(self.ALLOWED) and mfa_enforced(request):
            if mfa.mfa_device(user=request.user) is not None:
                logout(request)  # enrolled but this session never gave a code: log in again, with the code
                return redirect("login")
            return redirect("csp:mfa_setup")
        return self.get_response(request)
