"""Chart.js configurations built from dashboard data (numbers as floats; the tables beside the charts keep the
exact Decimals). ``static/metrics/dashboards.js`` draws every ``<canvas data-chart>`` from these."""

from typing import Any

COLORS = {"green": "#198754", "yellow": "#ffc107", "red": "#dc3545", "blue": "#0d6efd", "grey": "#6c757d"}


def _f(value) -> float | None:
    return None if value is None else float(value)


def waterfall_chart(steps: list[dict[str, Any]]) -> dict[str, Any]:
    colors = {"total": COLORS["blue"], "up": COLORS["green"], "down": COLORS["red"]}
    return {
        "type": "bar",
        "data": {
            "labels": [s["label"] for s in steps],
            "datasets": [
                {
                    "label": "MRR",
                    "data": [[_f(s["low"]), _f(s["high"])] for s in steps],
                    "backgroundColor": [colors[s["kind"]] for s in steps],
                }
            ],
        },
        "options": {"plugins": {"legend": {"display": False}}, "animation": False, "maintainAspectRatio": False},
    }


def line_chart(labels: list[str], series: list[tuple[str, list, str]], *, suffix: str = "%") -> dict[str, Any]:
    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": name, "data": [_f(v) for v in values], "borderColor": color, "backgroundColor": color,
                 "spanGaps": True, "tension": 0.2}
                for name, values, color in series
            ],
        },
        "options": {"animation": False, "maintainAspectRatio": False},
    }  # fmt: skip


def stacked_bar_chart(labels: list[str], series: list[tuple[str, list, str]], *, horizontal: bool = False) -> dict:
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": name, "data": [_f(v) for v in values], "backgroundColor": color}
                for name, values, color in series
            ],
        },
        "options": {
            "indexAxis": "y" if horizontal else "x",
            "scales": {"x": {"stacked": True}, "y": {"stacked": True}},
            "animation": False,
            "maintainAspectRatio": False,
        },
    }


def bar_chart(labels: list[str], series: list[tuple[str, list, str]]) -> dict[str, Any]:
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": name, "data": [_f(v) for v in values], "backgroundColor": color}
                for name, values, color in series
            ],
        },
        "options": {"animation": False, "maintainAspectRatio": False},
    }
