"""The set-based recompute: load scorecards, run each needed source once for all the accounts at once, then
score in Python. The number of queries depends on the sources used, never on the number of accounts."""

import datetime as dt
from dataclasses import dataclass

from accounts.models import Account
from health.assignment import Assigner
from health.measures import MEASURES, run_sources
from health.models import Scorecard
from health.scoring import MeasureSpec, score


@dataclass
class Result:
    """The computed health of one account as of a day."""

    account_id: int
    scorecard: Scorecard
    score: float | None
    band: str
    breakdown: dict


def load_scorecards() -> list[Scorecard]:
    """Every scorecard with its measures, in two queries."""
    return list(Scorecard.objects.prefetch_related("measures"))


def _specs(card: Scorecard) -> list[MeasureSpec]:
    return [
        MeasureSpec(m.key, m.weight, tuple((float(x), float(y)) for x, y in m.breakpoints), m.interpolation)
        for m in card.measures.all()
        if m.key in MEASURES  # a measure whose provider app was removed is skipped, not fatal
    ]


def compute(
    *, as_of: dt.date, account_ids: list[int] | None = None, scorecard_id: int | None = None, parallel: bool = False
) -> list[Result]:
    """Health of the given accounts (None = every account) as of the end of ``as_of``. With ``scorecard_id``
    only the accounts that scorecard applies to are scored (history recompute of one scorecard). ``parallel``
    runs the source queries on separate connections at once (only valid outside a transaction)."""
    scorecards = load_scorecards()
    assigner = Assigner(scorecards)
    accounts = Account.objects.order_by()
    if account_ids is not None:
        accounts = accounts.filter(id__in=account_ids)
    assigned = []
    for account_id, tier, touched in accounts.values_list("id", "tier", "last_touchpoint_at"):
        card = assigner.scorecard_for(tier=tier)
        if card is not None and (scorecard_id is None or card.id == scorecard_id):
            assigned.append((account_id, touched, card))
    if not assigned:
        return []
    specs = {card.id: _specs(card) for card in scorecards}
    value_fns = {card_id: [MEASURES[s.key].value for s in card_specs] for card_id, card_specs in specs.items()}
    used_keys = {s.key for _a, _t, card in assigned for s in specs[card.id]}
    needed = {src for key in used_keys for src in MEASURES[key].sources if src != "account"}
    # A handful of accounts: filter the sources by id; otherwise aggregate everything (cheaper than a huge IN).
    scope = [a for a, _t, _c in assigned] if account_ids is not None else None
    data = run_sources(needed, scope, as_of, parallel=parallel)
    defaults = {name: rows.get(None) for name, rows in data.items()}

    results = []
    for account_id, touched, card in assigned:
        row = {name: rows.get(account_id, defaults[name]) for name, rows in data.items()}
        row["account"] = {"last_touchpoint_at": touched}
        row["as_of"] = as_of
        total, breakdown = score(specs[card.id], [fn(row) for fn in value_fns[card.id]], card.missing_policy)
        results.append(Result(account_id, card, total, card.band_for(total), breakdown))
    return results
