"""Writes of scorecards and their measures, with the validation an admin sees as form or API errors."""

from functools import partial
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Tier
from csp.modeling import apply_fields
from health.measures import MEASURES
from health.models import Direction, Interpolation, Measure, Scorecard

SCORECARD_FIELDS = frozenset(
    {"name", "description", "is_default", "tiers", "yellow_from", "green_from", "missing_policy"}
)


def _clean_breakpoints(raw: Any, direction: str) -> list[list[float]]:
    """``[[raw, points], ...]``: at least two, raw values strictly increasing, points 0-100 and moving the way
    the direction says (never down for higher-is-better, never up for lower-is-better)."""
    try:
        pairs = [[float(x), float(y)] for x, y in raw]
    except (TypeError, ValueError) as exc:
        raise ValidationError("Breakpoints must be pairs of numbers: raw value and points.") from exc
    if len(pairs) < 2:
        raise ValidationError("Give at least two breakpoints.")
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if any(b <= a for a, b in pairwise(xs)):
        raise ValidationError("Raw values of the breakpoints must strictly increase.")
    if any(not 0 <= y <= 100 for y in ys):
        raise ValidationError("Points must be between 0 and 100.")
    steps = list(pairwise(ys))
    if direction == Direction.HIGHER and any(b < a for a, b in steps):
        raise ValidationError("Higher is better: points may not go down as the raw value rises.")
    if direction == Direction.LOWER and any(b > a for a, b in steps):
        raise ValidationError("Lower is better: points may not go up as the raw value rises.")
    return pairs


def clean_measures(measures: list[dict[str, Any]]) -> list[Measure]:
    """Validate measure dicts (key, weight, direction, interpolation, breakpoints) into unsaved Measure rows."""
    if not measures:
        raise ValidationError({"measures": "A scorecard needs at least one measure."})
    errors, seen, rows = [], set(), []
    for i, data in enumerate(measures, start=1):
        key = data.get("key")
        mdef = MEASURES.get(key)
        label = mdef.label if mdef else str(key)
        prefix = f"Measure {i} ({label}): "
        if mdef is None:
            errors.append(prefix + "unknown measure.")
            continue
        if key in seen:
            errors.append(prefix + "used twice.")
        seen.add(key)
        try:
            weight = float(data.get("weight", 0))
        except (TypeError, ValueError):
            weight = -1
        if not 0 < weight <= 1000:
            errors.append(prefix + "weight must be a number above 0 (up to 1000).")
        direction = data.get("direction") or mdef.direction
        interpolation = data.get("interpolation") or Interpolation.LINEAR
        if direction not in Direction.values:
            errors.append(prefix + "unknown direction.")
        if interpolation not in Interpolation.values:
            errors.append(prefix + "unknown interpolation.")
        try:
            points = _clean_breakpoints(data.get("breakpoints") or mdef.breakpoints, direction)
        except ValidationError as exc:
            errors.append(prefix + exc.messages[0])
            continue
        rows.append(
            Measure(
                key=key, group=mdef.group, weight=weight, direction=direction, interpolation=interpolation,
                breakpoints=points, position=i,
            )
        )  # fmt: skip
    if errors:
        raise ValidationError({"measures": errors})
    return rows


def _clean_scorecard(card: Scorecard) -> None:
    errors: dict[str, str] = {}
    if not isinstance(card.tiers, list) or any(t not in Tier.values for t in card.tiers):
        errors["tiers"] = f"Tiers must be a list of: {', '.join(Tier.values)}."
    else:
        card.tiers = sorted(set(card.tiers))
        taken = {
            t: other.name
            for other in Scorecard.objects.exclude(pk=card.pk)
            for t in other.tiers or []
            if t in card.tiers
        }
        if taken:
            errors["tiers"] = "; ".join(f"{Tier(t).label} is already scored by {name}" for t, name in taken.items())
    if not (0 <= card.yellow_from <= card.green_from <= 100):
        errors["green_from"] = "Cut-offs must satisfy 0 <= yellow from <= green from <= 100."
    if errors:
        raise ValidationError(errors)


def _enqueue_full_recompute() -> None:
    from health.tasks import health_recompute_all

    transaction.on_commit(partial(health_recompute_all.delay))


@transaction.atomic
def scorecard_save(
    *, data: dict[str, Any], measures: list[dict[str, Any]] | None, scorecard: Scorecard | None = None
) -> Scorecard:
    """Create or update a scorecard and (when given) replace its measures and the segments it claims. Making it
    the default takes the flag from the previous default. Current scores are recomputed after commit; history
    only on request."""
    data = dict(data)
    segments = data.pop("segments", None)  # many-to-many: set after the scorecard has an id
    card = scorecard or Scorecard()
    apply_fields(card, data, SCORECARD_FIELDS)
    errors: dict[str, Any] = {}
    try:
        card.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        _clean_scorecard(card)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    rows = None
    if measures is not None or scorecard is None:
        try:
            rows = clean_measures(measures or [])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if card.is_default:
        Scorecard.objects.filter(is_default=True).exclude(pk=card.pk).update(is_default=False)
    card.save()
    if segments is not None:
        card.segments.set(segments)
    if rows is not None:
        card.measures.all().delete()
        for row in rows:
            row.scorecard = card
        Measure.objects.bulk_create(rows)
    _enqueue_full_recompute()
    return card


@transaction.atomic
def scorecard_delete(*, scorecard: Scorecard) -> None:
    """Delete a scorecard; the default one stays until another is made the default. Snapshots keep their scores."""
    if scorecard.is_default:
        raise ValidationError({"is_default": "Make another scorecard the default before deleting this one."})
    scorecard.delete()
    _enqueue_full_recompute()
