"""TOTP second factor: enrol in the profile, login asks for the code, the admin requirement."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def _unthrottle(device: TOTPDevice) -> None:
    """django-otp delays the next try after a wrong code (brute-force throttling); tests skip the wait."""
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()


def _wrong(device: TOTPDevice) -> str:
    return "000000" if _code(device) != "000000" else "111111"


def _enrol(client, user) -> TOTPDevice:
    client.force_login(user)
    page = client.get(reverse("csp:mfa_setup"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code is inline, no external image
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(reverse("csp:mfa_setup"), {"token": _wrong(device)}).status_code == 400
    _unthrottle(device)
    response = client.post(reverse("csp:mfa_setup"), {"token": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.logout()
    return device


def _password_step(client, user):
    return client.post(reverse("login"), {"username": user.email, "password": PASSWORD})


def test_login_without_enrolment_needs_only_the_password(client, csm):
    response = _password_step(client, csm)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("csp:profile")).status_code == 200


def test_enrolled_user_logs_in_only_with_a_valid_code(client, csm):
    device = _enrol(client, csm)
    response = _password_step(client, csm)
    assert response.url == reverse("login_verify")
    # not logged in yet: the profile sends to the login page
    assert client.get(reverse("csp:profile")).status_code == 302
    bad = client.post(reverse("login_verify"), {"token": "12345x"})
    assert bad.status_code == 400 and "not valid" in bad.content.decode()
    assert client.get(reverse("csp:profile")).status_code == 302
    _unthrottle(device)
    # the enrolment spent this 30-second step's code (django-otp refuses a replay): use the next step's,
    # which the default tolerance of one step accepts
    good = client.post(reverse("login_verify"), {"token": _code(device, drift=1)})
    assert good.status_code == 302 and good.url == reverse("home")
    profile = client.get(reverse("csp:profile"))
    assert profile.status_code == 200 and "Turn off" in profile.content.decode()


def test_verify_step_without_a_password_step_goes_back_to_login(client, csm):
    assert client.post(reverse("login_verify"), {"token": "123456"}).url == reverse("login")


def test_disable_needs_a_current_code(client, csm):
    device = _enrol(client, csm)
    client.force_login(csm)
    client.post(reverse("csp:mfa_disable"), {"token": _wrong(device)})
    assert TOTPDevice.objects.filter(user=csm, confirmed=True).exists()
    _unthrottle(device)
    client.post(reverse("csp:mfa_disable"), {"token": _code(device, drift=1)})
    assert not TOTPDevice.objects.filter(user=csm).exists()


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_admins_must_enrol_when_required(client, admin_user, csm):
    response = _password_step(client, admin_user)
    assert response.url == reverse("csp:mfa_setup")
    # every other page sends the admin back to enrolment until a code confirms it
    assert client.get(reverse("accounts:list")).url == reverse("csp:mfa_setup")
    client.get(reverse("csp:mfa_setup"))
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    client.post(reverse("csp:mfa_setup"), {"token": _code(device)})
    assert client.get(reverse("accounts:list")).status_code == 200
    # other roles are not held
    client.logout()
    _password_step(client, csm)
    assert client.get(reverse("accounts:list")).status_code == 200
