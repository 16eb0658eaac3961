"""Pure scoring maths: raw value → points through breakpoints, points → weighted score and band.

No database access here, so the rules are easy to test by hand and identical for one account or 100,000.
A breakdown entry is stored compactly as ``[value, points, weight, contribution]`` (``expand`` names the parts;
a value of None means the measure had no data).
"""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from health.models import Interpolation, MissingPolicy

ENTRY = ("value", "points", "weight", "contribution")


@dataclass(frozen=True)
class MeasureSpec:
    """What the scorer needs of a ``health.models.Measure`` (plain data, built once per recompute)."""

    key: str
    weight: float
    breakpoints: tuple[tuple[float, float], ...]
    interpolation: str = Interpolation.LINEAR
    xs: tuple[float, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "xs", tuple(float(b[0]) for b in self.breakpoints))


def points_for(value: float, breakpoints: Sequence[Sequence[float]], interpolation: str = Interpolation.LINEAR,
               xs: Sequence[float] | None = None) -> float:  # fmt: skip
    """Points (0-100) for a raw value. ``breakpoints`` are ``(raw, points)`` pairs ordered by raw value; below the
    first and above the last the end points apply. Linear interpolates between neighbours; step keeps the points
    of the last breakpoint reached."""
    xs = xs or [b[0] for b in breakpoints]
    if value <= xs[0]:
        return float(breakpoints[0][1])
    if value >= xs[-1]:
        return float(breakpoints[-1][1])
    i = bisect_right(xs, value) - 1  # breakpoints[i].raw <= value < breakpoints[i + 1].raw
    (x0, y0), (x1, y1) = breakpoints[i], breakpoints[i + 1]
    if interpolation == Interpolation.STEP or x1 == x0:
        return float(y0)
    return float(y0 + (y1 - y0) * (value - x0) / (x1 - x0))


def score(
    measures: Sequence[MeasureSpec], values: Sequence[float | None], missing_policy: str
) -> tuple[float | None, dict[str, list]]:
    """Weighted average of the measures' points and the per-measure breakdown; ``values`` are in measure order.

    A measure whose raw value is None is missing: with ``exclude`` its weight is left out (the others' weights
    are spread over 100%); with ``zero`` it earns 0 points at full weight. ``contribution`` is each measure's
    share of the score (points x weight ÷ weights counted), so contributions add up to the score. With every
    measure excluded there is no score (None)."""
    zero = missing_policy == MissingPolicy.ZERO
    pts_list = []
    counted = 0.0
    for m, value in zip(measures, values, strict=True):
        pts = (0.0 if zero else None) if value is None else points_for(value, m.breakpoints, m.interpolation, m.xs)
        if pts is not None:
            counted += m.weight
        pts_list.append(pts)
    breakdown: dict[str, list] = {}
    total = 0.0
    for m, value, pts in zip(measures, values, pts_list, strict=True):
        if pts is None or not counted:
            breakdown[m.key] = [None if value is None else round(value, 2), None, m.weight, None]
            continue
        contribution = pts * m.weight / counted
        total += contribution
        breakdown[m.key] = [None if value is None else round(value, 2), round(pts, 1), m.weight, round(contribution, 2)]
    if not counted:
        return None, breakdown
    return round(total, 1), breakdown


def expand(entry: Sequence) -> dict:
    """A stored breakdown entry with its parts named, and ``missing`` when the measure had no data."""
    return {**dict(zip(ENTRY, entry, strict=True)), "missing": entry[0] is None}
