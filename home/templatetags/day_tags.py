"""``{% sparkline values %}``: a small inline SVG line of a daily series (gaps where a value is missing)."""

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def sparkline(values, width: int = 240, height: int = 32, low=None, high=None, label: str = "") -> str:
    """An SVG polyline per run of known values; ``low``/``high`` fix the vertical scale (e.g. 0-100 for health),
    else it spans the series' own range. Nothing known: an empty string."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo = min(known) if low is None else low
    hi = max(known) if high is None else high
    span = (hi - lo) or 1
    pad = 2  # room for the end dot
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    runs, run, last = [], [], ("0", "0")
    for i, v in enumerate(values):
        if v is None:
            if run:
                runs.append(run)
            run = []
            continue
        y = height - 2 - (float(v) - lo) / span * (height - 4)
        x = pad + i * step
        run.append(f"{x:.1f},{y:.1f}")
        last = (f"{x:.1f}", f"{y:.1f}")
    if run:
        runs.append(run)
    polyline = '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/>'
    lines = format_html_join("", polyline, ((" ".join(r),) for r in runs))
    # The latest value as a dot: visible even when it is the only one.
    dot = format_html('<circle cx="{}" cy="{}" r="2" fill="currentColor"/>', *last)
    svg = '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img"'
    return format_html(svg + ' aria-label="{}">{}{}</svg>', width, height, width, height, label, lines, dot)
