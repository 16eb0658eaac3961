"""``{% health_badge account.health %}``: score, band colour, trend arrow and override marker in one badge."""

from django import template

register = template.Library()

BAND_CLASS = {"red": "text-bg-danger", "yellow": "text-bg-warning", "green": "text-bg-success"}
TREND_ICON = {"up": "bi-arrow-up-right", "down": "bi-arrow-down-right", "flat": "bi-arrow-right"}


@register.inclusion_tag("health/_badge.html")
def health_badge(health):
    if not health:
        return {"health": None}
    band = health.shown_band
    return {
        "health": health,
        "band": band,
        "band_class": BAND_CLASS.get(band, "text-bg-secondary"),
        "trend_icon": TREND_ICON.get(health.trend, ""),
        "overridden": health.active_override is not None,
    }
