"""Small template helpers: sortable column headers and query strings that keep the current filters."""

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_url(context, field: str) -> str:
    """Link that sorts by ``field``, flipping direction when it is already the sort key."""
    params = QueryDict(context["querystring"], mutable=True)
    current = params.get("ordering", "")
    params["ordering"] = f"-{field}" if current == field else field
    params.pop("page", None)
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    params = QueryDict(context["querystring"], mutable=True)
    params["page"] = str(number)
    return "?" + params.urlencode()


@register.filter
def money(value) -> str:
    """Whole currency units with thousands separators: 1234567.8 -> 1,234,568."""
    try:
        return f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return "—"
