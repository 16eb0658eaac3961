"""Hand-computed scoring maths: breakpoints, weights, missing data both ways, bands."""

import pytest

from health.models import MissingPolicy, Scorecard
from health.scoring import MeasureSpec, expand, points_for, score

BP = ((0.0, 0.0), (10.0, 60.0), (20.0, 100.0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-5, 0), (0, 0), (5, 30), (10, 60), (15, 80), (20, 100), (99, 100)],
)
def test_linear_breakpoints_interpolate_and_clamp(value, expected):
    assert points_for(value, BP) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (9.9, 0), (10, 60), (19, 60), (20, 100)])
def test_step_breakpoints_keep_the_last_reached(value, expected):
    assert points_for(value, BP, "step") == expected


def test_lower_is_better_breakpoints():
    bp = ((0.0, 100.0), (7.0, 70.0), (30.0, 0.0))
    assert points_for(0, bp) == 100
    assert points_for(3.5, bp) == pytest.approx(85)
    assert points_for(18.5, bp) == pytest.approx(35)
    assert points_for(45, bp) == 0


SPECS = [
    MeasureSpec("a", 3, ((0, 0), (10, 100))),
    MeasureSpec("b", 1, ((0, 100), (4, 0))),
    MeasureSpec("c", 1, ((0, 0), (100, 100))),
]


def test_weighted_average_and_contributions():
    # a: 6 → 60 points x 3; b: 2 → 50 points x 1; c: 80 → 80 points x 1 → (180 + 50 + 80) / 5 = 62.0
    total, breakdown = score(SPECS, [6, 2, 80], MissingPolicy.EXCLUDE)
    assert total == 62.0
    assert expand(breakdown["a"]) == {"value": 6, "points": 60.0, "weight": 3, "contribution": 36.0, "missing": False}
    assert breakdown["b"] == [2, 50.0, 1, 10.0]
    assert breakdown["c"] == [80, 80.0, 1, 16.0]


def test_missing_excluded_spreads_its_weight():
    # c missing: (180 + 50) / 4 = 57.5
    total, breakdown = score(SPECS, [6, 2, None], MissingPolicy.EXCLUDE)
    assert total == 57.5
    assert expand(breakdown["c"]) == {"value": None, "points": None, "weight": 1, "contribution": None, "missing": True}
    assert breakdown["a"] == [6, 60.0, 3, 45.0]


def test_missing_scored_as_zero_keeps_its_weight():
    # c missing → 0 points: (180 + 50 + 0) / 5 = 46.0
    total, breakdown = score(SPECS, [6, 2, None], MissingPolicy.ZERO)
    assert total == 46.0
    assert breakdown["c"] == [None, 0.0, 1, 0.0]
    assert expand(breakdown["c"])["missing"] is True


def test_all_missing_excluded_has_no_score():
    assert score(SPECS, [None] * 3, MissingPolicy.EXCLUDE)[0] is None
    assert score(SPECS, [None] * 3, MissingPolicy.ZERO)[0] == 0.0


@pytest.mark.parametrize(
    ("value", "band"), [(0, "red"), (39.9, "red"), (40, "yellow"), (69.9, "yellow"), (70, "green")]
)
def test_default_band_cut_offs(value, band):
    assert Scorecard(yellow_from=40, green_from=70).band_for(value) == band


def test_no_score_no_band():
    assert Scorecard().band_for(None) == ""
