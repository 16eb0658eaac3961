"""Scorecards compiled for the hot loop of a recompute: ``CompiledScorecard.score_json`` gives exactly what
``health.scoring.score`` gives, plus the breakdown as the compact JSON text snapshots store, in a fraction of the time.

Compiling writes one Python function per scorecard with its measures unrolled: each measure's breakpoints become an
``if``/``elif`` chain over constants (the same comparisons ``bisect`` makes, the same arithmetic in the same order as
``scoring._points``), weights are added in measure order as ``score`` adds them, and the breakdown is one dict
display serialised by ``orjson``. Constants are passed by name, never written into the source as text. Both the
full recompute and the event-driven one score through it (``health.engine.iter_scored``); the tests compare it
with ``score`` over random scorecards and values (tests/health/test_bulk_equivalence.py).
"""

import json
from collections.abc import Callable, Sequence

import orjson

from health.models import MissingPolicy
from health.scoring import MeasureSpec, _points

ScoreFn = Callable[[Sequence[float | None]], tuple[float | None, str]]


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _orjson(value) -> str:
    return orjson.dumps(value).decode()


def _points_lines(i: int, spec: MeasureSpec, ns: dict) -> list[str]:
    """``p{i} = points of v{i}``: the first/last clamps, then the segment the value falls in (as ``bisect_right``
    finds it), interpolated as ``y0 + (y1 - y0) * (v - x0) / (x1 - x0)`` or stepped."""
    xs, ys = spec.xs, [b[1] for b in spec.breakpoints]
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        ns[f"X{i}_{k}"], ns[f"Y{i}_{k}"] = x, y
    last = len(xs) - 1
    lines = [f"if v{i} <= X{i}_0: p{i} = Y{i}_0", f"elif v{i} >= X{i}_{last}: p{i} = Y{i}_{last}"]
    for k in range(1, last + 1):
        if spec.step or xs[k] == xs[k - 1]:
            expr = f"Y{i}_{k - 1}"
        else:
            ns[f"DY{i}_{k}"], ns[f"DX{i}_{k}"] = ys[k] - ys[k - 1], xs[k] - xs[k - 1]  # what _points computes
            expr = f"Y{i}_{k - 1} + DY{i}_{k} * (v{i} - X{i}_{k - 1}) / DX{i}_{k}"
        lines.append(f"elif v{i} < X{i}_{k}: p{i} = {expr}")
    lines.append(f"else: p{i} = _points(v{i}, XS{i}, BP{i}, {spec.step})  # not a number: as score() does")
    ns[f"XS{i}"], ns[f"BP{i}"] = spec.xs, spec.breakpoints
    return lines


def _source(specs: Sequence[MeasureSpec], zero: bool, ns: dict) -> str:
    n = len(specs)
    body = [f"({''.join(f'v{i}, ' for i in range(n))}) = values", "counted = 0.0"]
    for i, spec in enumerate(specs):
        ns[f"W{i}"], ns[f"K{i}"], ns[f"M{i}"] = spec.weight, spec.key, [None, None, spec.weight, None]
        missing = [f"p{i} = 0.0", f"counted += W{i}"] if zero else [f"p{i} = None"]
        body += [f"if v{i} is None:", *(f"    {line}" for line in missing), "else:"]
        body += [f"    {line}" for line in _points_lines(i, spec, ns)]
        body.append(f"    counted += W{i}")
    body += ["if not counted:", "    return None, _missing(values)", "total = 0.0"]
    for i in range(n):
        entry = [
            f"c = p{i} * W{i} / counted",
            "total += c",
            f"if v{i} is not None and not (v{i}.__class__ is float and v{i}.is_integer()): v{i} = round(v{i}, 2)",
            f"e{i} = [v{i}, p{i} if p{i}.is_integer() else round(p{i}, 1), W{i}, c if c.is_integer() else round(c, 2)]",
        ]
        if zero:  # a missing measure still counts (0 points): never None here
            body += entry
        else:
            body += [f"if p{i} is None:", f"    e{i} = M{i}", "else:", *(f"    {line}" for line in entry)]
    items = ", ".join(f"K{i}: e{i}" for i in range(n))
    body.append(f"return round(total, 1), _dumps({{{items}}})")
    return "def score_json(values):\n" + "".join(f"    {line}\n" for line in body)


class CompiledScorecard:
    """A scorecard's measures, their value functions and missing-data policy, compiled once per recompute."""

    __slots__ = ("card_id", "keys", "score_json", "value_fns")

    def __init__(self, card_id: int | None, measures: Sequence[MeasureSpec], value_fns: Sequence, missing_policy: str):
        self.card_id = card_id
        self.keys = tuple(m.key for m in measures)
        self.value_fns = tuple(value_fns)
        # orjson writes floats as Python's repr does, except exponents below -4 ("1e-7", not "1e-07"); a rounded
        # value, points or contribution never has one, a weight might: such a scorecard keeps the json module.
        same = all(_orjson(m.weight) == _json(m.weight) for m in measures)
        dumps = _orjson if same else _json

        def missing(values) -> str:  # nothing counted (every measure missing, or only zero weights): no score
            return dumps(
                {
                    m.key: [None if v is None else round(v, 2), None, m.weight, None]
                    for m, v in zip(measures, values, strict=True)
                }
            )

        ns = {"_points": _points, "_dumps": dumps, "_missing": missing}
        exec(_source(measures, missing_policy == MissingPolicy.ZERO, ns), ns)
        self.score_json: ScoreFn = ns["score_json"]
