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
    step: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "breakpoints", tuple((float(x), float(y)) for x, y in self.breakpoints))
        object.__setattr__(self, "xs", tuple(b[0] for b in self.breakpoints))
        object.__setattr__(self, "step", self.interpolation == Interpolation.STEP)


def points_for(
    value: float, breakpoints: Sequence[Sequence[float]], interpolation: str = Interpolation.LINEAR
) -> float:
    """Points (0-100) for a raw value. ``breakpoints`` are ``(raw, points)`` pairs ordered by raw value; below the
    first and above the last the end points apply. Linear interpolates between neighbours; step keeps the points
    of the last breakpoint reached."""
    return _points(value, [float(b[0]) for b in breakpoints], breakpoints, interpolation == Interpolation.STEP)


def _points(value: float, xs: Sequence[float], breakpoints: Sequence[Sequence[float]], step: bool) -> float:
    if value <= xs[0]:
        return float(breakpoints[0][1])
    if value >= xs[-1]:
        return float(breakpoints[-1][1])
    i = bisect_right(xs, value) - 1  # breakpoints[i].raw <= value < breakpoints[i + 1].raw
    (x0, y0), (x1, y1) = breakpoints[i], breakpoints[i + 1]
    if step or x1 == x0:
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
    # Hot loop of a full recompute (100,000 accounts x every measure): kept flat on purpose.
    missing_points = 0.0 if missing_policy == MissingPolicy.ZERO else None
    weighted = []
    counted = 0.0
    for m, value in zip(measures, values):  # noqa: B905 (same length by construction; zip(strict) is slower)
        pts = missing_points if value is None else _points(value, m.xs, m.breakpoints, m.step)
        if pts is not None:
            counted += m.weight
        weighted.append(pts)
    breakdown: dict[str, list] = {}
    if not counted:
        for m, value in zip(measures, values):  # noqa: B905
            breakdown[m.key] = [None if value is None else round(value, 2), None, m.weight, None]
        return None, breakdown
    total = 0.0
    for m, value, pts in zip(measures, values, weighted):  # noqa: B905
        if pts is None:
            breakdown[m.key] = [None, None, m.weight, None]
            continue
        contribution = pts * m.weight / counted
        total += contribution
        breakdown[m.key] = [None if value is None else round(value, 2), round(pts, 1), m.weight, round(contribution, 2)]
    return round(total, 1), breakdown


def expand(entry: Sequence) -> dict:
    """A stored breakdown entry with its parts named, and ``missing`` when the measure had no data."""
    return {**dict(zip(ENTRY, entry, strict=True)), "missing": entry[0] is None}
