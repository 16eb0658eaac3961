"""Formatting and glossary citations for the dashboards: "-" for figures without a value (a zero denominator)."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

from metrics.glossary import cite as glossary_cite

register = template.Library()


@register.filter
def pct(value) -> str:
    """12.34%; "-" when undefined. Accepts Decimals (already x100) and floats (ratios 0..1 via ``ratio_pct``)."""
    if value is None or value == "":
        return "-"
    return f"{Decimal(value):,.2f}%"


@register.filter
def ratio_pct(value) -> str:
    """A 0..1 ratio as a percentage with one decimal; "-" when undefined."""
    if value is None:
        return "-"
    return f"{float(value) * 100:.1f}%"


@register.filter
def money(value) -> str:
    """$1,234 (whole units; "-" when undefined). Negative amounts keep their sign."""
    if value is None or value == "":
        return "-"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.0f}"


@register.filter
def auc(value) -> str:
    return "-" if value is None else f"{float(value):.2f}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def cite(key: str):
    """An info marker whose tooltip cites the figure's glossary definition (term, definition, formula, how)."""
    entry = glossary_cite(key)
    text = " ".join(
        part for part in (f"{entry['term']}: {entry['definition']}", entry["formula"], entry["how"]) if part
    )
    return format_html(
        '<span class="metric-cite text-secondary" tabindex="0" role="note" data-bs-toggle="tooltip" '
        'data-glossary="{}" title="{}" aria-label="{}"><i class="bi bi-info-circle"></i></span>',
        key,
        text,
        text,
    )


@register.filter
def heat(value) -> str:
    """Background opacity of a retention cell (0 to 0.5 for 0% to 100% and above)."""
    if value is None:
        return "0"
    return f"{min(max(float(value), 0.0), 100.0) / 200:.2f}"
