from django import template

from csp.mfa import mfa_device

register = template.Library()


@register.simple_tag
def mfa_enrolled(user) -> bool:
    """Whether ``user`` has a confirmed TOTP device (the profile's two-factor panel)."""
    return mfa_device(user=user) is not None
