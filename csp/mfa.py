"""TOTP second factor for password logins (django-otp): enrolment, verification, the admin requirement.

A user has at most one TOTP device. Enrolment creates it unconfirmed; the first valid code confirms it, and
from then on a password login asks for a code before the session is logged in.
"""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from csp.models import Role, User


def mfa_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, or None when they have not enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def mfa_required(*, user: User) -> bool:
    """Whether this user must have a second factor before using the app (MFA_REQUIRED_FOR_ADMINS)."""
    return settings.MFA_REQUIRED_FOR_ADMINS and user.role == Role.ADMIN


@transaction.atomic
def mfa_enrolment_start(*, user: User) -> TOTPDevice:
    """The pending (unconfirmed) device, created once so that reloading the page keeps the same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def mfa_enrolment_confirm(*, user: User, token: str) -> TOTPDevice | None:
    """Confirm the pending device with a code from the app; None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


@transaction.atomic
def mfa_disable(*, user: User, token: str) -> bool:
    """Remove the second factor; a current code is required, so a stolen session alone cannot remove it."""
    device = mfa_device(user=user)
    if device is None or not device.verify_token(token.strip()):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    return True


def mfa_qr_svg(*, device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG (served in the page: no third-party QR service sees the secret)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # drop the XML declaration: the SVG is embedded in HTML
